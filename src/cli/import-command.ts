// bouncer import gatekeeper [--from-cluster [--kubeconfig F] [--context C]] [FILE|DIR|-]... -o DIR [--force]
// Writes a bouncer policy directory (DIR/gatekeeper/<template>/template.yaml and
// constraints/<name>.yaml) from the ConstraintTemplates and Constraints a cluster holds
// and/or files hold, cleaned to what a user would commit. A migration is: import, build
// (and verify the suites), push. Exit 0 when something was written, 1 when the input held
// no ConstraintTemplate (nothing is written then), 2 on bad arguments or input.
import { parseArgs } from 'node:util';
import { readGatekeeperObjects } from '../cluster/gatekeeper-objects.js';
import { BouncerError } from '../errors/errors.js';
import type { ImportDocument } from '../gatekeeper/import-documents.js';
import { readImportFiles } from '../gatekeeper/import-files.js';
import { renderImportLayout, writeImportLayout } from '../gatekeeper/import-layout.js';
import { planImport, type ImportPlan } from '../gatekeeper/import-plan.js';
import { kubeConfigFor } from './cluster-context.js';
import { EXIT, type CliContext } from './context.js';

const USAGE = 'usage: bouncer import gatekeeper [--from-cluster [--kubeconfig FILE] [--context NAME]] [FILE|DIR|-]... -o DIR [--force]';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The summary printed after an import: what was written, skipped and ignored, and what to do next. */
export function renderImportSummary(plan: ImportPlan, dir: string, target: string | undefined, notes: readonly string[] = []): string {
  const constraints = plan.templates.reduce((n, t) => n + t.constraints.length, 0);
  const lines: string[] = [];
  if (target) lines.push(`wrote ${plural(plan.templates.length, 'ConstraintTemplate')} and ${plural(constraints, 'Constraint')} to ${target}`);
  else lines.push('nothing written: the input holds no ConstraintTemplate');
  const width = Math.max(0, ...plan.templates.map((t) => t.name.length));
  for (const t of plan.templates) {
    const names = t.constraints.map((c) => c.name).join(', ');
    lines.push(`  ${t.name.padEnd(width)}  ${plural(t.constraints.length, 'constraint')}${names ? `: ${names}` : ''}`);
  }
  for (const note of notes) lines.push(`note: ${note}`);
  if (plan.skipped.length > 0) {
    const templates = plan.skipped.filter((s) => s.what === 'ConstraintTemplate').length;
    const counts = [templates > 0 ? plural(templates, 'ConstraintTemplate') : '', templates < plan.skipped.length ? plural(plan.skipped.length - templates, 'Constraint') : ''];
    lines.push(`warning: skipped ${counts.filter(Boolean).join(' and ')}, not written:`);
    for (const s of plan.skipped) lines.push(`  ${s.what} ${s.id} (${s.source}): ${s.reason}`);
  }
  const ignored = Object.entries(plan.ignored).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (ignored.length > 0) {
    const total = ignored.reduce((n, [, c]) => n + c, 0);
    const kinds = ignored.map(([kind, n]) => (n === 1 ? kind : `${kind} ×${n}`)).join(', ');
    lines.push(`ignored ${plural(total, 'document')} that ${total === 1 ? 'is' : 'are'} not a Gatekeeper template or constraint: ${kinds}`);
  }
  if (target) {
    const steps: [string, string][] = [
      [`bouncer build ${dir}`, "compile the templates' Rego and check every constraint (parameters, match, builtins) into bundle.tar.gz"],
      ['bouncer verify SUITE...', 'run your gator verify suites against the same templates and constraints'],
      ['bouncer push bundle.tar.gz --name NAME', 'store the bundle in the cluster and make it active'],
    ];
    const w = Math.max(...steps.map(([c]) => c.length));
    lines.push('next steps:', ...steps.map(([command, what]) => `  ${command.padEnd(w)}  ${what}`));
  }
  return `${lines.join('\n')}\n`;
}

export async function importCommand(ctx: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...ctx.args],
      options: {
        'from-cluster': { type: 'boolean' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        output: { type: 'string', short: 'o' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (cause) {
    throw new BouncerError('CONFIG_INVALID', `${(cause as Error).message}\n${USAGE}`, { cause });
  }
  const { values, positionals } = parsed;
  if (values.help) {
    ctx.stdout(`${USAGE}\n`);
    return EXIT.ok;
  }
  const [source, ...files] = positionals;
  const usage = (what: string) => new BouncerError('CONFIG_INVALID', `${what}\n${USAGE}`);
  if (source !== 'gatekeeper') throw usage(source === undefined ? 'say what to import: gatekeeper' : `cannot import from ${JSON.stringify(source)}; only gatekeeper`);
  if (!values.output) throw usage('-o DIR is required: the policy directory to write');
  if (!values['from-cluster'] && files.length === 0) throw usage('give --from-cluster, FILES, or both');
  if ((values.kubeconfig !== undefined || values.context !== undefined) && !values['from-cluster']) throw usage('--kubeconfig and --context go with --from-cluster');

  // Files first, then the cluster: the same object from both is imported once.
  const documents: ImportDocument[] = readImportFiles(files, ctx.stdin);
  const notes: string[] = [];
  if (values['from-cluster']) {
    const kc = kubeConfigFor(ctx, { kubeconfig: values.kubeconfig, context: values.context });
    const cluster = await readGatekeeperObjects(kc);
    documents.push(...cluster.templates, ...cluster.constraints);
    const served = new Set(cluster.constraintKinds);
    for (const t of cluster.templates) {
      const kind = (t.object.spec as { crd?: { spec?: { names?: { kind?: unknown } } } } | undefined)?.crd?.spec?.names?.kind;
      if (typeof kind === 'string' && !served.has(kind)) {
        notes.push(`the cluster serves no constraint kind ${kind} for ${t.source}: Gatekeeper has not created its CRD (see the template's status for errors)`);
      }
    }
  }
  const plan = planImport(documents);
  if (plan.templates.length === 0) {
    ctx.stdout(renderImportSummary(plan, values.output, undefined, notes));
    return EXIT.failed;
  }
  const { target } = writeImportLayout(values.output, renderImportLayout(plan), { force: values.force ?? false });
  ctx.stdout(renderImportSummary(plan, values.output, target, notes));
  return EXIT.ok;
}
