// A policies directory built into bundle bytes in memory (the development source of
// `bouncer serve --policies`); the OPA CLI writes a file, which is removed afterwards.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from './build.js';

export async function buildBundleBytes(options: { readonly policiesDir: string; readonly opa: string }): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-build-'));
  try {
    const output = join(dir, 'bundle.tar.gz');
    await buildBundle({ policiesDir: options.policiesDir, output, opa: options.opa });
    return readFileSync(output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
