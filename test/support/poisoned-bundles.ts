// Bundles that never finish loading, made from real ones: the policy.wasm of a real OPA
// bundle replaced by a minimal module whose start function loops forever, assembled here
// byte by byte (a few dozen bytes, so no binary is committed and no WAT tool is needed).
// https://webassembly.github.io/spec/core/binary/modules.html
import { bundleFiles, packBundle } from './bundle-files.js';
import { signFiles } from './sign.js';

const section = (id: number, body: number[]): number[] => [id, body.length, ...body];
const name = (text: string): number[] => [text.length, ...Buffer.from(text, 'ascii')];

/**
 * (module (import "env" "memory" (memory 1)) (func $spin (loop br 0)) (start $spin)).
 * With `importsMemory: false` the memory import is left out (a module bouncer must refuse
 * before it runs, because its memory would not be bounded).
 */
export function loopingWasm(options: { importsMemory?: boolean } = {}): Buffer {
  const body = [0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]; // no locals; loop (block type empty) br 0 end; end
  return Buffer.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x01, 0x60, 0x00, 0x00]), // one type: [] -> []
    ...(options.importsMemory === false ? [] : section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01])),
    ...section(3, [0x01, 0x00]), // one function of type 0
    ...section(8, [0x00]), // start: function 0
    ...section(10, [0x01, body.length, ...body]),
  ]);
}

/** `file` (a real bundle) with its policy.wasm replaced by one that never finishes instantiating; re-signed when a key is given. */
export async function neverLoadingBundle(file: string, options: { signingKeyPem?: string; importsMemory?: boolean } = {}): Promise<Buffer> {
  const files = await bundleFiles(file);
  files.set('/policy.wasm', loopingWasm(options));
  files.delete('/.signatures.json');
  return packBundle(options.signingKeyPem ? await signFiles(files, options.signingKeyPem) : files);
}
