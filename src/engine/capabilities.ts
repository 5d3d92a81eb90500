// What the WASM runtime can execute: the builtins OPA's WASM compiler implements inside
// the module, the SDK's JS builtins, and the ones the engine implements in the host
// (host-builtins.ts). `opa build --capabilities` restricted to this set turns any other
// builtin into a build error naming it (src/authoring/build.ts), and the loader checks the
// module's host imports against it so a hand-built bundle is refused at load time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { hostBuiltins } from './host-builtins.js';
import { parseJson } from '../json/parse-json.js';

/** Path of the SDK's capabilities.json. */
export function sdkCapabilitiesFile(): string {
  const entry = createRequire(import.meta.url).resolve('@open-policy-agent/opa-wasm');
  return join(dirname(entry), '..', 'capabilities.json');
}

/**
 * Builtins OPA v1.22.4 compiles to native WASM functions (internal/compiler/wasm/wasm.go
 * builtinsFunctions) that the SDK's older capabilities file does not list.
 * https://github.com/open-policy-agent/opa/blob/v1.22.4/internal/compiler/wasm/wasm.go
 */
const NATIVE_NOT_IN_SDK_LIST = ['array.flatten', 'array.reverse', 'internal.template_string', 'net.cidr_overlap', 'object.keys', 'object.union_n', 'strings.reverse'] as const;

/** Names of every builtin a bouncer policy may call. */
export function supportedBuiltins(): ReadonlySet<string> {
  const caps = parseJson(readFileSync(sdkCapabilitiesFile(), 'utf8')) as { builtins: { name: string }[] };
  return new Set([...caps.builtins.map((b) => b.name), ...NATIVE_NOT_IN_SDK_LIST, ...Object.keys(hostBuiltins())]);
}
