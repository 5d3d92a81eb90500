// bouncer verify [-v] [-r RUN] [--opa PATH] PATH...: runs gator verify suites and prints
// gator's report with gator's exit status: 0 every test passed, 1 a test or case failed;
// 2 (like every bouncer command's error) for bad input that stops the run before anything
// is evaluated: a missing PATH, a file that does not parse, a Suite with wrong field types,
// an invalid --run filter. gator takes one PATH; bouncer takes several (reported in order).
// Accepted for gator compatibility: --enable-k8s-native-validation[=BOOL] (bouncer always
// evaluates a template's Rego, as gator with the flag false). Refused: -t/--trace (OPA's
// trace of the WASM evaluation is not available).
import { parseArgs } from 'node:util';
import { resolveOpa } from '../config/opa-path.js';
import { formatGatorReport } from '../gatekeeper/gator-report.js';
import { readSuites } from '../gatekeeper/suite.js';
import type { SuiteEngine } from '../gatekeeper/suite-engine.js';
import { runSuites } from '../gatekeeper/verify-runner.js';
import { EXIT, PACKAGE_ROOT, type CliContext } from './context.js';

export const VERIFY_USAGE = 'usage: bouncer verify [-v|--verbose] [-r|--run REGEX] [--opa PATH] PATH... (a suite file, a directory, or DIR/... for every suite below DIR)';

/** Makes the engine that compiles the suites' templates (the lead's WASM engine in production). */
export type SuiteEngineFactory = (options: { readonly opa: string }) => SuiteEngine | Promise<SuiteEngine>;

const BOOLEAN_FLAGS = new Set(['verbose', 'trace', 'enable-k8s-native-validation']);

/** cobra's `--flag=true|false` for boolean flags, which node's parseArgs does not take. */
function normaliseBooleans(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    const m = /^--([a-z0-9-]+)=(true|false|1|0|t|f|TRUE|FALSE|True|False|T|F)$/.exec(arg);
    if (m && BOOLEAN_FLAGS.has(m[1] ?? '')) {
      if (/^(true|1|t|TRUE|True|T)$/.test(m[2] ?? '')) out.push(`--${m[1]}`);
      continue;
    }
    out.push(arg);
  }
  return out;
}

export async function verifyCommand(ctx: CliContext, createEngine: SuiteEngineFactory): Promise<number> {
  const { values, positionals } = parseArgs({
    args: normaliseBooleans(ctx.args),
    options: {
      verbose: { type: 'boolean', short: 'v' },
      run: { type: 'string', short: 'r' },
      trace: { type: 'boolean', short: 't' },
      'enable-k8s-native-validation': { type: 'boolean' },
      opa: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (values.trace) throw new Error(`--trace is not supported: bouncer evaluates compiled WASM, which has no OPA trace\n${VERIFY_USAGE}`);
  if (positionals.length === 0) throw new Error(`no PATH given\n${VERIFY_USAGE}`);
  const suites = await readSuites(positionals);
  const engine = await createEngine({ opa: resolveOpa(values.opa, ctx.env, PACKAGE_ROOT) });
  const result = await runSuites(suites, engine, { run: values.run ?? '' });
  // gator prints its report with fmt.Println: one more newline at the end.
  ctx.stdout(`${formatGatorReport(result, values.verbose === true)}\n`);
  if (!result.failed) return EXIT.ok;
  // What cobra prints when gator's command returns its "FAIL" error.
  ctx.stderr('Error: FAIL\n');
  return EXIT.failed;
}
