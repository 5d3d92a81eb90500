// The bouncer CLI for policy authors and operators. One file per command; this one
// dispatches and turns errors into a message and an exit code (2), never a stack trace
// for an expected failure.
import { readFileSync } from 'node:fs';
import { isBouncerError } from '../errors/errors.js';
import { buildCommand } from './build-command.js';
import { EXIT, type CliContext } from './context.js';
import { reviewCommand } from './review-command.js';
import { testCommand } from './test-command.js';
import { pushCommand } from './push-command.js';
import { rollbackCommand } from './rollback-command.js';
import { promoteCommand } from './promote-command.js';
import { historyCommand } from './history-command.js';
import { statusCommand } from './status-command.js';
import { manifestsCommand } from './manifests-command.js';
import { importCommand } from './import-command.js';
import { verifyCommand } from './verify-command.js';
import { uninstallCommand } from './uninstall-command.js';
import { syncCommand } from './sync-command.js';
import { auditCommand } from './audit-command.js';
import { replayCommand } from './replay-command.js';
import { publishReports, seedInventory } from '../serve/audit.js';
import { createLogger } from '../telemetry/logger.js';
import { createSuiteEngine } from '../authoring/suite-engine.js';

const USAGE = `usage: bouncer <command> [options]
  build [DIR]            compile a policies directory into an OPA bundle (policy.wasm + manifest)
  test [DIR]             run the policies' opa tests and fixture cases
  review FILE...         evaluate AdmissionReview documents as the server would
  push FILE --name NAME  store a bundle as a new revision in the cluster and make it active
  rollback NAME          make an earlier revision active again (--to SEQUENCE), or roll back a shadow/canary candidate
  promote NAME           make the bundle's shadow or canary candidate its active revision
  history NAME           list a bundle's stored revisions
  status                 show each bundle's active revision and what every replica runs
  manifests              render the webhook configurations from the policies' scopes
  verify PATH...         run gator verify suites (Gatekeeper templates) through bouncer's engine
  import gatekeeper ...  write DIR/gatekeeper/ from a cluster's (--from-cluster) or files' ConstraintTemplates and Constraints
  audit                  list what already exists and evaluate it as admission would (read-only unless --write-reports)
  sync check [DIR]       report ConstraintTemplate requires-sync-data requirements the SyncSet/Config of DIR/gatekeeper does not satisfy (as gator sync test)
  replay                 re-evaluate recorded reviews (serve --record-dir) or the cluster's objects under a candidate and diff the verdicts
  uninstall              remove bouncer: webhooks first, then (once the API server stops calling them) the rest
  serve                  run the webhook (bouncer serve --help)
`;

const COMMANDS: Readonly<Record<string, (ctx: CliContext) => Promise<number>>> = {
  build: buildCommand,
  test: testCommand,
  review: reviewCommand,
  push: pushCommand,
  rollback: rollbackCommand,
  promote: promoteCommand,
  history: historyCommand,
  status: statusCommand,
  manifests: manifestsCommand,
  import: importCommand,
  sync: syncCommand,
  audit: (ctx) =>
    auditCommand(ctx, {
      writeReports: (kc, run, options) =>
        publishReports(kc, run, { format: options.format === 'wgpolicyk8s' ? 'wgpolicyk8s' : 'openreports', maxResultsPerReport: 1000 }),
      inventory: (kc, bundle) => seedInventory(kc, bundle, createLogger({ level: 'warn' })),
    }),
  replay: (ctx) => replayCommand(ctx, { inventory: (kc, bundle) => seedInventory(kc, bundle, createLogger({ level: 'warn' })) }),
  uninstall: uninstallCommand,
  verify: (ctx) => verifyCommand(ctx, ({ opa }) => createSuiteEngine(opa)),
};

export async function main(argv: readonly string[], io: Partial<CliContext> = {}): Promise<number> {
  const [name, ...args] = argv;
  const ctx: CliContext = {
    args,
    env: io.env ?? process.env,
    stdout: io.stdout ?? ((t) => process.stdout.write(t)),
    stderr: io.stderr ?? ((t) => process.stderr.write(t)),
    stdin: io.stdin ?? (() => readFileSync(0, 'utf8')),
  };
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    ctx.stderr(name && name !== 'help' && name !== '--help' ? `unknown command ${name}\n${USAGE}` : USAGE);
    return name && name !== 'help' && name !== '--help' ? EXIT.error : EXIT.ok;
  }
  try {
    return await command(ctx);
  } catch (err) {
    ctx.stderr(`bouncer ${name}: ${isBouncerError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`);
    return EXIT.error;
  }
}
