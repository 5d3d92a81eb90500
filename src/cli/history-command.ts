// bouncer history NAME [-n NS]: the stored revisions of a bundle, the active one marked (a
// shadow or canary candidate too), then every step the pointer recorded (push, shadow,
// canary, promote, rollback: when, by whom, why).
import { BouncerError } from '../errors/errors.js';
import { clusterArgs, storeFor } from './cluster-context.js';
import { EXIT, type CliContext } from './context.js';

const USAGE = 'usage: bouncer history NAME [-n NAMESPACE]';

export async function historyCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = clusterArgs(ctx, {}, USAGE);
  const [name] = positionals;
  if (!name || positionals.length > 1) throw new BouncerError('CONFIG_INVALID', `history needs a bundle name\n${USAGE}`);
  const { revisions, active, candidate, steps } = await storeFor(ctx, values).history(name);
  ctx.stdout('ACTIVE  SEQ  REVISION                               SHA256        SIZE      CREATED\n');
  for (const r of revisions) {
    ctx.stdout(
      `${r.sequence === active ? '*' : r.sequence === candidate?.sequence ? (candidate.mode === 'canary' ? 'c' : 's') : ' '}       ${String(r.sequence).padEnd(4)} ${r.revision.padEnd(38)} ${r.digest.slice(0, 12)}  ${String(r.sizeBytes).padEnd(9)} ${r.created?.toISOString() ?? ''}\n`,
    );
  }
  if (candidate) ctx.stdout(`(* active, ${candidate.mode === 'canary' ? 'c canary' : 's shadow'} candidate)\n`);
  if (steps && steps.length > 0) {
    ctx.stdout('\nSTEPS\n');
    for (const s of steps) ctx.stdout(`${new Date(s.at).toISOString()}  ${s.action.padEnd(8)} revision ${s.sequence} (${s.revision}) by ${s.by}${s.reason ? `: ${s.reason}` : ''}\n`);
  }
  return EXIT.ok;
}
