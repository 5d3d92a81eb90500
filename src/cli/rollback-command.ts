// bouncer rollback NAME [--to SEQUENCE] [-n NS]: makes an earlier stored revision active
// again (the watcher accepts an older revision only through this). With a shadow or canary
// candidate in progress it rolls the candidate back instead: the active revision stays.
import { BouncerError } from '../errors/errors.js';
import { clusterArgs, storeFor } from './cluster-context.js';
import { EXIT, type CliContext } from './context.js';

const USAGE = 'usage: bouncer rollback NAME [--to SEQUENCE] [-n NAMESPACE] [--reason TEXT]';

export async function rollbackCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = clusterArgs(ctx, { to: { type: 'string' }, reason: { type: 'string' } }, USAGE);
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new BouncerError('CONFIG_INVALID', `rollback needs a bundle name\n${USAGE}`);
  const to = values.to === undefined ? undefined : Number(values.to);
  if (to !== undefined && (!Number.isInteger(to) || to < 1)) throw new BouncerError('CONFIG_INVALID', '--to must be a revision sequence number (see bouncer history)');
  const pointer = await storeFor(ctx, values).rollback(name, to, values.reason ? { reason: values.reason } : {});
  ctx.stdout(`${JSON.stringify({ bundle: pointer.bundle, sequence: pointer.sequence, revision: pointer.revision, action: pointer.action })}\n`);
  return EXIT.ok;
}
