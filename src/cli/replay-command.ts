// bouncer replay --candidate [NAME=]BUNDLE|DIR... [--baseline [NAME=]BUNDLE|DIR...]
//                (--from SPOOL|FILE... | --from-cluster) [--since 24h] [--format text|json]
//                [--fail-on allowed-to-denied,...] [--examples 3] [--namespaces FILE]...
// Re-evaluates recorded reviews (bouncer serve --record-dir), or the cluster's current objects as
// CREATE, under a candidate policy set in this process with admission's evaluator, and prints
// the verdict diff against the baseline (the recorded decisions, or --baseline re-evaluated) with
// its coverage. Exit 0: no change listed in --fail-on (default allowed-to-denied); 1: some;
// 2: the replay could not run (a candidate that does not load, a source that cannot be read).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createAuditor, AUDIT_DEFAULTS } from '../audit/auditor.js';
import { buildBundle } from '../authoring/build.js';
import type { LoadedBundle } from '../bundles/bundle.js';
import { kubeObjectPages } from '../cluster/object-pages.js';
import { kubeResourceDiscovery } from '../cluster/resource-discovery.js';
import { resolveOpa } from '../config/opa-path.js';
import { parseDuration } from '../config/settings.js';
import { BouncerError } from '../errors/errors.js';
import { clusterReplayReport } from '../replay/cluster-replay.js';
import { readRecordFile, sourceFiles, type ReadRecord, type Unreadable } from '../replay/read-records.js';
import { replayRecords, type ReplayReport, type ReplaySet } from '../replay/replay-records.js';
import { failedChanges, parseFailOn, reportJson, reportText } from '../replay/replay-report.js';
import { loadReplaySet } from '../replay/replay-set.js';
import { clusterArgs, kubeConfigFor } from './cluster-context.js';
import { EXIT, PACKAGE_ROOT, type CliContext } from './context.js';
import { readNamespaceFiles } from './namespace-files.js';

export const REPLAY_USAGE =
  'usage: bouncer replay --candidate [NAME=]BUNDLE|DIR... [--baseline [NAME=]BUNDLE|DIR...] (--from SPOOL|FILE... | --from-cluster [--kubeconfig F] [--context C]) [--since 24h] [--format text|json] [--fail-on allowed-to-denied,denied-to-allowed,warnings-added,warnings-removed,patch-changed,errors|none] [--examples 3] [--namespaces FILE]... [--opa PATH]';

type KubeConfigLike = ReturnType<typeof kubeConfigFor>;

export interface ReplayCommandDeps {
  /** A bundle with its replicated data seeded from the cluster (--from-cluster; as `bouncer audit`). */
  readonly inventory?: (kc: KubeConfigLike, bundle: LoadedBundle) => Promise<LoadedBundle>;
}

const invalid = (message: string) => new BouncerError('CONFIG_INVALID', `${message}\n${REPLAY_USAGE}`);

/** `[NAME=]PATH` → the bundle's name and bytes (a directory is built with the OPA CLI, as `bouncer build`). */
async function bundleBytes(spec: string, opa: () => string): Promise<{ name: string; bytes: Uint8Array }> {
  const eq = spec.indexOf('=');
  const path = eq > 0 ? spec.slice(eq + 1) : spec;
  let name = eq > 0 ? spec.slice(0, eq) : basename(path).replace(/\.tar\.gz$|\.tgz$/, '');
  let stat;
  try {
    stat = statSync(path);
  } catch (cause) {
    throw new BouncerError('CONFIG_INVALID', `${path}: no such bundle file or policies directory`, { cause });
  }
  if (!stat.isDirectory()) return { name, bytes: readFileSync(path) };
  if (eq <= 0) name = 'local';
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-replay-build-'));
  try {
    const output = join(dir, 'bundle.tar.gz');
    await buildBundle({ policiesDir: path, output, opa: opa() });
    return { name, bytes: readFileSync(output) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function replaySetOf(specs: readonly string[], opa: () => string): Promise<ReplaySet> {
  const bundles = [];
  for (const spec of specs) bundles.push(await bundleBytes(spec, opa));
  if (new Set(bundles.map((b) => b.name)).size !== bundles.length) throw invalid('two bundles of one set have the same name; name them with NAME=PATH');
  return loadReplaySet(bundles, opa());
}

export async function replayCommand(ctx: CliContext, deps: ReplayCommandDeps = {}): Promise<number> {
  const { values } = clusterArgs(
    ctx,
    {
      candidate: { type: 'string', multiple: true },
      baseline: { type: 'string', multiple: true },
      from: { type: 'string', multiple: true },
      'from-cluster': { type: 'boolean' },
      since: { type: 'string' },
      format: { type: 'string' },
      'fail-on': { type: 'string' },
      examples: { type: 'string' },
      namespaces: { type: 'string', multiple: true },
      opa: { type: 'string' },
      context: { type: 'string' },
      'page-size': { type: 'string' },
    },
    REPLAY_USAGE,
  );
  if (!values.candidate || values.candidate.length === 0) throw invalid('--candidate is required');
  const fromCluster = values['from-cluster'] === true;
  if (fromCluster === (values.from !== undefined && values.from.length > 0)) throw invalid('give --from SPOOL|FILE... or --from-cluster (one of them)');
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw invalid('--format must be text or json');
  let failOn;
  try {
    failOn = parseFailOn(values['fail-on']);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const examples = values.examples === undefined ? 3 : Number(values.examples);
  if (!Number.isInteger(examples) || examples < 0) throw invalid('--examples must be a non-negative integer');
  let since: number | undefined;
  if (values.since !== undefined) {
    try {
      since = Date.now() - parseDuration(values.since);
    } catch (err) {
      throw invalid(`--since ${(err as Error).message}`);
    }
  }
  const opa = () => resolveOpa(values.opa, ctx.env, PACKAGE_ROOT);
  const candidate = await replaySetOf(values.candidate, opa);
  const baseline = values.baseline && values.baseline.length > 0 ? await replaySetOf(values.baseline, opa) : undefined;
  const namespaces = values.namespaces ? readNamespaceFiles(values.namespaces, ctx.stdin) : undefined;

  let report: ReplayReport;
  if (fromCluster) {
    const kc = kubeConfigFor(ctx, values);
    const started = performance.now();
    const audit = async (rs: ReplaySet) => {
      let set = rs.set;
      if (deps.inventory) {
        const seeded = [];
        for (const b of set.bundles) seeded.push(await deps.inventory(kc, b));
        set = { ...set, bundles: seeded };
      }
      const warn = (obj: object, msg: string) => ctx.stderr(`bouncer replay: ${msg}${(obj as { err?: unknown }).err instanceof Error ? ` (${((obj as { err: Error }).err).message})` : ''}\n`);
      return createAuditor(
        { policies: () => set, discovery: kubeResourceDiscovery(kc), pager: kubeObjectPages(kc), ...(namespaces ? { namespaces } : {}), logger: { info: () => undefined, warn, error: warn } },
        { pageSize: values['page-size'] ? Number(values['page-size']) : AUDIT_DEFAULTS.pageSize, maxFindings: 1_000_000, excludedNamespaces: ['kube-system', 'kube-node-lease', typeof values.namespace === 'string' ? values.namespace : 'bouncer-system'] },
      ).run();
    };
    const candidateRun = await audit(candidate);
    const baselineRun = baseline ? await audit(baseline) : undefined;
    report = clusterReplayReport(candidateRun, baselineRun, { examples, durationMs: performance.now() - started });
  } else {
    let files: string[];
    try {
      files = sourceFiles(values.from ?? []);
    } catch (cause) {
      throw new BouncerError('CONFIG_INVALID', `--from: ${(cause as Error).message}`, { cause });
    }
    const records: ReadRecord[] = [];
    const unreadable: Unreadable[] = [];
    for (const file of files) {
      const r = readRecordFile(file);
      records.push(...r.records);
      unreadable.push(...r.unreadable);
    }
    report = await replayRecords(records, unreadable, { candidate, ...(baseline ? { baseline } : {}), ...(since === undefined ? {} : { since }), examples, ...(namespaces ? { namespaces } : {}) });
  }
  ctx.stdout(format === 'json' ? reportJson(report, failOn) : reportText(report, failOn));
  return failedChanges(report, failOn).length > 0 ? EXIT.failed : EXIT.ok;
}
