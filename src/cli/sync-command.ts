// bouncer sync check [DIR=policies] [--format text|json]
// Reports each ConstraintTemplate of DIR/gatekeeper whose requires-sync-data requirements the
// sync configuration of DIR/gatekeeper (SyncSets, the Config) does not satisfy, as
// `gator sync test --force-omit-gvk-manifest` does: in gator's words on stderr and exit 1 when
// any, exit 0 when all are met. `--format json` prints the result on stdout instead.
import { parseArgs } from 'node:util';
import { checkSync, formatUnmet } from '../authoring/sync-check.js';
import { readGatekeeperPolicies } from '../gatekeeper/read-policies.js';
import { EXIT, type CliContext } from './context.js';

export const SYNC_USAGE = 'usage: bouncer sync check [DIR=policies] [--format text|json]';

export async function syncCommand(ctx: CliContext): Promise<number> {
  const [sub, ...rest] = ctx.args;
  if (sub !== 'check') throw new Error(`${sub === undefined ? 'sync needs a subcommand' : `unknown sync subcommand ${sub}`}\n${SYNC_USAGE}`);
  const { values, positionals } = parseArgs({ args: rest, options: { format: { type: 'string', default: 'text' } }, allowPositionals: true });
  if (positionals.length > 1) throw new Error(`sync check takes one directory\n${SYNC_USAGE}`);
  if (values.format !== 'text' && values.format !== 'json') throw new Error(`--format is text or json\n${SYNC_USAGE}`);
  const policies = readGatekeeperPolicies(positionals[0] ?? 'policies');
  const sync = policies.sync ?? [];
  const unmet = checkSync(policies.templates, sync);
  if (values.format === 'json') {
    ctx.stdout(
      `${JSON.stringify(
        {
          satisfied: unmet.length === 0,
          syncConfigurations: sync.map((s) => ({ kind: s.kind, name: s.name, file: s.file, gvks: s.gvks })),
          unmet: unmet.map((t) => ({ template: t.template, file: t.file, requirements: t.requirements.map((r) => r.alternatives) })),
        },
        null,
        2,
      )}\n`,
    );
  } else if (unmet.length > 0) {
    ctx.stderr(formatUnmet(unmet));
  } else {
    ctx.stdout(`every requirement of ${policies.templates.length} template(s) is met by ${sync.length} sync configuration(s)\n`);
  }
  return unmet.length > 0 ? EXIT.failed : EXIT.ok;
}
