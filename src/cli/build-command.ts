// bouncer build [DIR] [-o FILE] [--revision R] [--opa PATH]
import { parseArgs } from 'node:util';
import { buildBundle } from '../authoring/build.js';
import { kindKey } from '../inventory/types.js';
import { resolveOpa } from '../config/opa-path.js';
import { BouncerError } from '../errors/errors.js';
import { EXIT, PACKAGE_ROOT, type CliContext } from './context.js';

export const BUILD_USAGE = 'usage: bouncer build [DIR=policies] [-o FILE=bundle.tar.gz] [--revision REV] [--opa PATH] [--exception-max-days 90]';

export async function buildCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...ctx.args],
    options: { output: { type: 'string', short: 'o' }, revision: { type: 'string' }, opa: { type: 'string' }, 'exception-max-days': { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length > 1) throw new Error(`build takes one directory\n${BUILD_USAGE}`);
  const maxDays = values['exception-max-days'] === undefined ? undefined : Number(values['exception-max-days']);
  if (maxDays !== undefined && !(Number.isInteger(maxDays) && maxDays >= 1)) throw new BouncerError('CONFIG_INVALID', `--exception-max-days must be a positive number of days\n${BUILD_USAGE}`);
  const result = await buildBundle({
    policiesDir: positionals[0] ?? 'policies',
    output: values.output ?? 'bundle.tar.gz',
    opa: resolveOpa(values.opa, ctx.env, PACKAGE_ROOT),
    ...(values.revision ? { revision: values.revision } : {}),
    ...(maxDays === undefined ? {} : { exceptionMaxDays: maxDays }),
  });
  for (const warning of result.warnings) ctx.stderr(`bouncer build: warning: ${warning}\n`);
  for (const note of result.notes) ctx.stderr(`bouncer build: note: ${note}\n`);
  ctx.stdout(`${JSON.stringify({ output: result.output, revision: result.revision, policies: result.policies.map((p) => p.id), ...(result.exceptions.length > 0 ? { exceptions: result.exceptions } : {}), inventory: result.inventory.kinds.map(kindKey) })}\n`);
  return EXIT.ok;
}
