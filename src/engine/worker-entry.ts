// Where a worker thread's script is. Built (dist/), it is the compiled .js next to the
// caller. Run from the TypeScript sources (tsx, vitest) there is none: a small bootstrap
// registers tsx's loader inside the worker (Node 20 does not pass --import loaders to
// workers) and then imports the TypeScript file.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `compiled` is the worker's .js URL (e.g. `new URL('./load-worker.js', import.meta.url)`). */
export function workerEntry(compiled: URL): URL {
  if (existsSync(fileURLToPath(compiled))) return compiled;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/index\.cjs$/, 'index.mjs');
  const ts = compiled.href.replace(/\.js$/, '.ts');
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(ts)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
