// bouncer status [-n NS]: every bundle's active revision and what each replica reports.
import { clusterArgs, storeFor } from './cluster-context.js';
import { EXIT, type CliContext } from './context.js';
import { rolloutLines } from './rollout-status.js';

export async function statusCommand(ctx: CliContext): Promise<number> {
  const { values } = clusterArgs(ctx, { json: { type: 'boolean' } }, 'usage: bouncer status [-n NAMESPACE] [--json]');
  const bundles = await storeFor(ctx, values).status();
  if (values.json) {
    ctx.stdout(`${JSON.stringify(bundles)}\n`);
    return EXIT.ok;
  }
  for (const status of bundles.sort((a, b) => a.pointer.bundle.localeCompare(b.pointer.bundle))) {
    const { pointer, replicas } = status;
    ctx.stdout(`${pointer.bundle}: revision ${pointer.sequence} (${pointer.revision}) published ${new Date(pointer.publishedAt).toISOString()} by ${pointer.action}\n`);
    const entries = Object.entries(replicas);
    if (entries.length === 0) ctx.stdout('  no replica has reported yet\n');
    for (const [replica, s] of entries.sort(([a], [b]) => a.localeCompare(b))) {
      const behind = s.state === 'active' && s.sequence !== pointer.sequence ? ' (behind)' : '';
      ctx.stdout(`  ${replica}: ${s.state} revision ${s.sequence}${behind}${s.code ? ` ${s.code}: ${s.reason ?? ''}` : ''}${s.serving !== undefined ? `; serving ${s.serving}` : ''}\n`);
    }
    for (const line of rolloutLines(status)) ctx.stdout(`${line}\n`);
  }
  return EXIT.ok;
}
