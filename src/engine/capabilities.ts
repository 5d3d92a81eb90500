// What the WASM runtime can execute. The SDK ships the list of builtins it supports
// (natively in the module or in JS) as an OPA capabilities file; `opa build --capabilities`
// with it turns an unsupported builtin into a build error, and the loader checks the
// same list so a hand-built bundle is refused at load time rather than per request.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Path of the SDK's capabilities.json (pass to `opa build --capabilities`). */
export function sdkCapabilitiesFile(): string {
  const entry = createRequire(import.meta.url).resolve('@open-policy-agent/opa-wasm');
  return join(dirname(entry), '..', 'capabilities.json');
}

/** Names of every builtin the SDK can run. */
export function supportedBuiltins(): ReadonlySet<string> {
  const caps = JSON.parse(readFileSync(sdkCapabilitiesFile(), 'utf8')) as { builtins: { name: string }[] };
  return new Set(caps.builtins.map((b) => b.name));
}
