// bouncer promote NAME [-n NS] [--reason TEXT]: makes the bundle's shadow or canary
// candidate its active revision with one pointer write (every replica follows through its
// watch), recorded in the pointer's history.
import { BouncerError } from '../errors/errors.js';
import { clusterArgs, storeFor } from './cluster-context.js';
import { EXIT, type CliContext } from './context.js';

const USAGE = 'usage: bouncer promote NAME [-n NAMESPACE] [--reason TEXT]';

export async function promoteCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = clusterArgs(ctx, { reason: { type: 'string' } }, USAGE);
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new BouncerError('CONFIG_INVALID', `promote needs a bundle name\n${USAGE}`);
  const pointer = await storeFor(ctx, values).promote(name, values.reason ? { reason: values.reason } : {});
  ctx.stdout(`${JSON.stringify({ bundle: pointer.bundle, sequence: pointer.sequence, revision: pointer.revision, action: pointer.action })}\n`);
  return EXIT.ok;
}
