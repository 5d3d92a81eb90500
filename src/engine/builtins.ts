// Builtins the engine provides to policies in place of the SDK's own. The SDK looks a
// builtin up in its internal table before the custom ones passed to loadPolicy, so an
// override has to replace the table entry; that table is the SDK's CommonJS module
// object, reached by file path because the package's export map hides it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { goSprintf } from './sprintf.js';

const OVERRIDES: Readonly<Record<string, (...args: unknown[]) => unknown>> = {
  sprintf: (format, args) => goSprintf(format, args),
};

let installed = false;

/** Replaces the SDK builtins above; idempotent. Called before any policy is instantiated. */
export function installBuiltinOverrides(): void {
  if (installed) return;
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@open-policy-agent/opa-wasm');
  const table = require(join(dirname(entry), 'builtins', 'index.js')) as Record<string, unknown>;
  Object.assign(table, OVERRIDES);
  installed = true;
}
