// The benchmark harness: `npm run bench` (full, ~10 minutes on 2 cores) or
// `npm run bench:smoke` (--quick, seconds). See docs/performance.md for the method.
//
// Writes bench/results/<timestamp>.json and, for a full default run (or --docs), the
// generated part of docs/performance.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { describeCorpus, expectedAllowed, generateCorpus, type CorpusItem, type CorpusProfile } from './corpus.js';
import { serverLatency, type ServerLatency } from './server-latency.js';
import { closedLoop, openLoop, type ClosedLoopResult, type OpenLoopResult } from './load.js';
import { parseOptions, type BenchOptions, type Section } from './options.js';
import { buildPolicySet, stageForOpa, VALIDATING_STARTERS, type BuiltPolicySet, type PolicySetSpec } from './policy-sets.js';
import { describeMachine, loadAverage, machineBusyMs, pin, planPinning, treeCpuMs, type Machine, type Pinning } from './proc.js';
import { analyze, renderDocs, type Analysis } from './report.js';
import { startBouncerTarget, startFloorTarget, startOpaTarget, type SystemName, type Target } from './targets.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

// --- result shapes -------------------------------------------------------------------

export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export interface OpenRun extends OpenLoopResult {
  readonly rep: number;
  /** Server CPU during the run, ms (null for the floor, whose process also runs the load generator). */
  readonly cpuMs: number | null;
  readonly cpuPerDecisionUs: number | null;
  readonly rssKb: number | null;
  /** CPU used by processes other than the harness and the servers during the run, % of one CPU. */
  readonly interferencePct: number;
  /** 1, or more when other processes interfered and the run was measured again (the quietest attempt is kept). */
  readonly attempts: number;
  /** The server's last log lines, when requests failed. */
  readonly serverLog?: readonly string[];
  /** bouncer only: server-side latency from its own histogram (see server-latency.ts). */
  readonly server?: ServerLatency;
}

export interface SaturationRun extends ClosedLoopResult {
  readonly rep: number;
  readonly cpuMs: number;
  readonly cpuPerDecisionUs: number;
  readonly rssKb: number | null;
  readonly interferencePct: number;
  readonly attempts: number;
  readonly serverLog?: readonly string[];
}

export interface OpenSummary {
  readonly rate: number;
  readonly sustained: boolean;
  /** Failed requests over all repetitions (connection errors, non-200 answers). */
  readonly errors: number;
  /** Successful requests per repetition (median): p99.9 means little below 1,000. */
  readonly samples: number;
  readonly achievedRps: number;
  readonly p50: number;
  readonly p99: Spread;
  readonly p999: number;
  readonly serviceP50: number;
  readonly sendLagP99: number;
  readonly cpuPerDecisionUs: number | null;
  /** bouncer: server-side latency from its own histogram (medians over the runs). */
  readonly server?: { readonly p50Ms: number; readonly p99Ms: Spread; readonly within1Ms: number };
}

export interface SaturationSummary {
  readonly errors: number;
  readonly throughput: Spread;
  readonly p50: number;
  readonly p99: number;
  readonly cpuPerDecisionUs: number;
}

export interface SystemResult {
  readonly system: SystemName;
  readonly label: string;
  readonly startupMs: number;
  readonly rssAfterStartKb: number | null;
  readonly open: { readonly rate: number; readonly runs: OpenRun[]; summary?: OpenSummary }[];
  readonly saturation: { readonly runs: SaturationRun[]; summary?: SaturationSummary };
  rssEndKb: number | null;
  peakRssKb: number | null;
}

export interface Agreement {
  readonly items: number;
  readonly systems: readonly SystemName[];
  readonly allowed: number;
  readonly denied: number;
  /** Items on which the systems' decisions differ. */
  readonly disagreements: readonly { index: number; kind: string; intent: string; decisions: Record<string, boolean | string> }[];
  /** Items whose decision differs from what the generator intended (checked for the starter set only). */
  readonly intentMismatches: readonly { index: number; kind: string; intent: string; allowed: boolean }[] | null;
}

export interface ConfigResult {
  readonly id: string;
  readonly section: Section;
  readonly title: string;
  readonly policySet: { readonly name: string; readonly policies: number; readonly validating: number; readonly revision: string };
  readonly corpus: { readonly profile: CorpusProfile } & ReturnType<typeof describeCorpus>;
  readonly agreement: Agreement;
  readonly systems: SystemResult[];
}

export interface BenchResults {
  readonly schema: 1;
  readonly startedAt: string;
  finishedAt: string;
  durationS: number;
  readonly command: string;
  readonly options: BenchOptions;
  readonly machine: Machine;
  readonly pinning: Pinning | null;
  readonly versions: { readonly opa: string; readonly node: string; readonly commit: string; readonly dirty: readonly string[] };
  readonly loadAverageAtStart: number;
  readonly configs: ConfigResult[];
  /** Ratios, goals and agreement, computed from the configs. */
  analysis?: Analysis;
}

// --- helpers -------------------------------------------------------------------------

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { min: NaN, median: NaN, max: NaN };
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? (sorted[Math.floor(mid)] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number };
}

const median = (values: readonly number[]) => spread(values).median;

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function opaVersion(opa: string): string {
  try {
    return /^Version: (.+)$/m.exec(execFileSync(opa, ['version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

interface Context {
  readonly options: BenchOptions;
  readonly opa: string;
  readonly pinning: Pinning | undefined;
  readonly cacheDir: string;
  readonly log: (line: string) => void;
  /** Servers alive right now (their CPU is ours, not interference). */
  readonly live: Set<Target>;
}

function ownCpuMs(ctx: Context): number {
  const u = process.cpuUsage();
  let total = (u.user + u.system) / 1000;
  for (const t of ctx.live) {
    if (t.pid === undefined) continue;
    try {
      total += treeCpuMs(t.pid);
    } catch {
      // exited
    }
  }
  return total;
}

/** Measures how much CPU other processes use while `fn` runs: % of one CPU. */
async function withInterference<T>(ctx: Context, fn: () => Promise<T>): Promise<{ value: T; interferencePct: number }> {
  const busy0 = machineBusyMs();
  const own0 = ownCpuMs(ctx);
  const t0 = performance.now();
  const value = await fn();
  const wall = performance.now() - t0;
  const foreign = machineBusyMs() - busy0 - (ownCpuMs(ctx) - own0);
  return { value, interferencePct: Math.max(0, (foreign / wall) * 100) };
}

/** A run during which other processes used more than this much of a CPU is measured again (up to twice). */
const INTERFERENCE_LIMIT_PCT = 25;

/** Runs `fn` after waiting for a quiet machine; again (up to twice) when other processes interfered; keeps the quietest attempt. */
async function measured<T>(ctx: Context, fn: () => Promise<T>): Promise<{ value: T; interferencePct: number; attempts: number }> {
  let best: { value: T; interferencePct: number } | undefined;
  let attempts = 0;
  while (attempts < (ctx.options.quietWaitMs > 0 ? 3 : 1)) {
    attempts++;
    await waitQuiet(ctx);
    const r = await withInterference(ctx, fn);
    if (!best || r.interferencePct < best.interferencePct) best = r;
    if (r.interferencePct < INTERFERENCE_LIMIT_PCT) break;
    ctx.log(`  (other processes used ${r.interferencePct.toFixed(0)} % of a CPU during that run; measuring it again)`);
    await sleep(200);
  }
  return { ...(best as { value: T; interferencePct: number }), attempts };
}

/** Waits (up to --quiet-wait) until other processes use less than 15 % of a CPU. */
async function waitQuiet(ctx: Context): Promise<void> {
  if (ctx.options.quietWaitMs <= 0) return;
  const deadline = Date.now() + ctx.options.quietWaitMs;
  let warned = false;
  for (;;) {
    const { interferencePct } = await withInterference(ctx, () => sleep(150));
    if (interferencePct < 15) return;
    if (Date.now() > deadline) {
      ctx.log(`  the machine is busy (${interferencePct.toFixed(0)} % of a CPU used by other processes); measuring anyway`);
      return;
    }
    if (!warned) ctx.log(`  waiting for other processes to leave the CPUs alone (${interferencePct.toFixed(0)} % of a CPU in use)`);
    warned = true;
  }
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % Math.max(1, items.length);
  return [...items.slice(k), ...items.slice(0, k)];
}

// --- one configuration: a policy set, a corpus, the systems -------------------------------

interface ConfigSpec {
  readonly id: string;
  readonly section: Section;
  readonly title: string;
  readonly set: BuiltPolicySet;
  readonly profile: CorpusProfile;
  readonly corpus: readonly CorpusItem[];
  readonly systems: readonly SystemName[];
  readonly rates: readonly number[];
  readonly durationMs: number;
  readonly repetitions: number;
  readonly saturationRepetitions: number;
  readonly saturationMs: number;
  readonly warmupMs: number;
  readonly bouncerLogLevel: 'warn' | 'info';
  readonly bouncerArgs: readonly string[];
  /** Names bouncer in this configuration's tables. */
  readonly bouncerLabel?: string;
  /** Compare decisions with the generator's intent (meaningful for the starter set). */
  readonly checkIntent: boolean;
  /** CPUs of the servers instead of the pinning plan's (the cores section gives them every CPU). */
  readonly serverCpus?: string;
  /** bouncer as a node:cluster of this many processes. */
  readonly bouncerProcesses?: number;
}

async function startTarget(ctx: Context, spec: ConfigSpec, system: SystemName, stageDir: () => string): Promise<Target> {
  const server = {
    maxSockets: Math.max(ctx.options.maxOutstanding, ctx.options.connections),
    ...(ctx.pinning ? { cpus: spec.serverCpus ?? ctx.pinning.server, clientCpus: ctx.pinning.client } : {}),
  };
  if (system === 'bouncer') {
    return startBouncerTarget(spec.set.bundleFile, {
      ...server,
      logLevel: spec.bouncerLogLevel,
      extraArgs: [...ctx.options.bouncerArgs, ...spec.bouncerArgs],
      ...(ctx.options.cpuProfDir ? { cpuProfDir: ctx.options.cpuProfDir } : {}),
      ...(spec.bouncerProcesses ? { processes: spec.bouncerProcesses } : {}),
    });
  }
  if (system === 'opa') return startOpaTarget(ctx.opa, stageDir(), server);
  return startFloorTarget(spec.set.bundleFile);
}

async function checkAgreement(spec: ConfigSpec, targets: readonly Target[]): Promise<Agreement> {
  const disagreements: Agreement['disagreements'][number][] = [];
  const mismatches: { index: number; kind: string; intent: string; allowed: boolean }[] = [];
  let allowed = 0;
  for (const item of spec.corpus) {
    const decisions: Record<string, boolean | string> = {};
    for (const t of targets) {
      try {
        decisions[t.system] = await t.send(item.body);
      } catch (err) {
        decisions[t.system] = `error: ${(err as Error).message}`;
      }
    }
    const values = Object.values(decisions);
    const first = values[0];
    if (values.some((v) => v !== first)) disagreements.push({ index: item.index, kind: item.kind, intent: item.intent, decisions });
    if (first === true) allowed++;
    if (spec.checkIntent && typeof first === 'boolean' && first !== expectedAllowed(item)) mismatches.push({ index: item.index, kind: item.kind, intent: item.intent, allowed: first });
  }
  return {
    items: spec.corpus.length,
    systems: targets.map((t) => t.system),
    allowed,
    denied: spec.corpus.length - allowed,
    disagreements,
    intentMismatches: spec.checkIntent ? mismatches : null,
  };
}

function summarizeOpen(rate: number, runs: readonly OpenRun[]): OpenSummary {
  const cpu = runs.map((r) => r.cpuPerDecisionUs).filter((v): v is number => v !== null);
  return {
    rate,
    sustained: runs.every((r) => r.sustained),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    samples: median(runs.map((r) => r.completed)),
    achievedRps: median(runs.map((r) => r.achievedRps)),
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p99: spread(runs.map((r) => r.latencyMs.p99)),
    p999: median(runs.map((r) => r.latencyMs.p999)),
    serviceP50: median(runs.map((r) => r.serviceMs.p50)),
    sendLagP99: median(runs.map((r) => r.sendLagMs.p99)),
    cpuPerDecisionUs: cpu.length > 0 ? median(cpu) : null,
    ...serverSummary(runs),
  };
}

function serverSummary(runs: readonly OpenRun[]): Pick<OpenSummary, 'server'> {
  const server = runs.map((r) => r.server).filter((v): v is ServerLatency => v !== undefined);
  if (server.length === 0) return {};
  return {
    server: { p50Ms: median(server.map((x) => x.p50Ms)), p99Ms: spread(server.map((x) => x.p99Ms)), within1Ms: median(server.map((x) => x.within1Ms)) },
  };
}

function summarizeSaturation(runs: readonly SaturationRun[]): SaturationSummary {
  return {
    errors: runs.reduce((n, r) => n + r.errors, 0),
    throughput: spread(runs.map((r) => r.throughputRps)),
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p99: median(runs.map((r) => r.latencyMs.p99)),
    cpuPerDecisionUs: median(runs.map((r) => r.cpuPerDecisionUs)),
  };
}

async function runConfig(ctx: Context, spec: ConfigSpec): Promise<ConfigResult> {
  const { options, log } = ctx;
  log(`\n== ${spec.id}: ${spec.title}`);
  const bodies = spec.corpus.map((c) => c.body);
  let stage: string | undefined;
  const removeStage = () => {
    if (stage) rmSync(stage, { recursive: true, force: true });
  };
  const stageDir = () => {
    if (!stage) {
      stage = stageForOpa(spec.set);
      cleanups.add(removeStage);
    }
    return stage;
  };
  const targets: Target[] = [];
  const results = new Map<Target, SystemResult>();
  try {
    for (const system of spec.systems) {
      const t0 = performance.now();
      const target = await startTarget(ctx, spec, system, stageDir);
      targets.push(target);
      ctx.live.add(target);
      const startupMs = performance.now() - t0;
      const label = system === 'bouncer' && spec.bouncerLabel ? spec.bouncerLabel : system;
      results.set(target, { system, label, startupMs, rssAfterStartKb: target.memory()?.rssKb ?? null, open: spec.rates.map((rate) => ({ rate, runs: [] })), saturation: { runs: [] }, rssEndKb: null, peakRssKb: null });
      log(`  ${label} ready in ${(startupMs / 1000).toFixed(1)} s`);
    }
    const agreement = await checkAgreement(spec, targets);
    log(`  decisions: ${agreement.allowed} allowed, ${agreement.denied} denied, ${agreement.disagreements.length} disagreements${agreement.intentMismatches ? `, ${agreement.intentMismatches.length} differ from the generator's intent` : ''}`);

    for (const target of targets) {
      await openLoop(target.send, bodies, { rate: Math.min(500, Math.max(...spec.rates)), durationMs: spec.warmupMs, maxOutstanding: options.maxOutstanding });
      if (spec.saturationRepetitions > 0) await closedLoop(target.send, bodies, { connections: target.system === 'floor' ? 1 : options.connections, durationMs: Math.min(1_000, spec.warmupMs) });
      target.measuring();
    }

    for (let rep = 0; rep < spec.repetitions; rep++) {
      for (const [i, rate] of spec.rates.entries()) {
        for (const target of rotate(targets, rep + i)) {
          const { value, interferencePct, attempts } = await measured(ctx, async () => {
            const buckets0 = await target.serverBuckets?.();
            const cpu0 = target.cpuMs();
            const r = await openLoop(target.send, bodies, { rate, durationMs: spec.durationMs, maxOutstanding: options.maxOutstanding, deadlineMs: spec.durationMs * 1.2 + 500 });
            const cpuMs = target.pid === undefined ? null : target.cpuMs() - cpu0;
            const buckets1 = await target.serverBuckets?.();
            return { r, cpuMs, server: buckets0 && buckets1 ? serverLatency(buckets0, buckets1) : undefined };
          });
          const { r: run, cpuMs, server } = value;
          const record: OpenRun = {
            ...run,
            rep,
            cpuMs,
            cpuPerDecisionUs: cpuMs === null || run.completed === 0 ? null : (cpuMs * 1000) / run.completed,
            rssKb: target.memory()?.rssKb ?? null,
            interferencePct,
            attempts,
            ...(run.errors > 0 ? { serverLog: target.logTail(20) } : {}),
            ...(server ? { server } : {}),
          };
          const result = results.get(target) as SystemResult;
          (result.open[i] as SystemResult['open'][number]).runs.push(record);
          log(
            `  ${result.label.padEnd(9)} ${String(rate).padStart(5)}/s rep ${rep + 1}: p50 ${run.latencyMs.p50.toFixed(2)} ms, p99 ${run.latencyMs.p99.toFixed(2)} ms, p99.9 ${run.latencyMs.p999.toFixed(2)} ms` +
              `, ${run.achievedRps.toFixed(0)}/s${run.sustained ? '' : ' (NOT sustained)'}${run.errors ? `, ${run.errors} FAILED (${run.errorSamples[0] ?? ''})` : ''}${record.cpuPerDecisionUs === null ? '' : `, ${record.cpuPerDecisionUs.toFixed(0)} µs CPU/review`}` +
              `${server ? `; server-side p50 ${server.p50Ms.toFixed(2)} ms, p99 ${server.p99Ms.toFixed(2)} ms, ${(server.within1Ms * 100).toFixed(1)} % within 1 ms` : ''}` +
              `${interferencePct >= 15 ? `, interference ${interferencePct.toFixed(0)} %` : ''}`,
          );
          await sleep(100);
        }
      }
    }

    for (let rep = 0; rep < spec.saturationRepetitions; rep++) {
      for (const target of rotate(targets, rep)) {
        const connections = target.system === 'floor' ? 1 : options.connections;
        const { value, interferencePct, attempts } = await measured(ctx, async () => {
          const cpu0 = target.cpuMs();
          const r = await closedLoop(target.send, bodies, { connections, durationMs: spec.saturationMs });
          return { r, cpuMs: target.cpuMs() - cpu0 };
        });
        const { r: run, cpuMs } = value;
        const record: SaturationRun = { ...run, rep, cpuMs, cpuPerDecisionUs: run.completed === 0 ? NaN : (cpuMs * 1000) / run.completed, rssKb: target.memory()?.rssKb ?? null, interferencePct, attempts, ...(run.errors > 0 ? { serverLog: target.logTail(20) } : {}) };
        const result = results.get(target) as SystemResult;
        result.saturation.runs.push(record);
        log(
          `  ${result.label.padEnd(9)} saturation rep ${rep + 1} (${connections} conn): ${run.throughputRps.toFixed(0)}/s, p50 ${run.latencyMs.p50.toFixed(2)} ms, p99 ${run.latencyMs.p99.toFixed(2)} ms, ${record.cpuPerDecisionUs.toFixed(0)} µs CPU/review${run.errors ? `, ${run.errors} FAILED (${run.errorSamples[0] ?? ''})` : ''}` +
            `${interferencePct >= 15 ? `, interference ${interferencePct.toFixed(0)} %` : ''}`,
        );
        await sleep(100);
      }
    }

    for (const [target, result] of results) {
      for (const entry of result.open) entry.summary = summarizeOpen(entry.rate, entry.runs);
      if (result.saturation.runs.length > 0) result.saturation.summary = summarizeSaturation(result.saturation.runs);
      const memory = target.memory();
      result.rssEndKb = memory?.rssKb ?? null;
      result.peakRssKb = memory?.peakKb ?? null;
    }
    return {
      id: spec.id,
      section: spec.section,
      title: spec.title,
      policySet: { name: spec.set.spec.name, policies: spec.set.policies.length, validating: spec.set.validating, revision: spec.set.revision },
      corpus: { profile: spec.profile, ...describeCorpus(spec.corpus) },
      agreement,
      systems: [...results.values()],
    };
  } finally {
    for (const t of targets) {
      ctx.live.delete(t);
      await t.close().catch((err: unknown) => log(`  closing ${t.system}: ${(err as Error).message}`));
    }
    removeStage();
    cleanups.delete(removeStage);
  }
}

// --- the plan ---------------------------------------------------------------------------------

/** Servers started by this process and not yet stopped (stopped on SIGINT/SIGTERM too). */
const live = new Set<Target>();
/** Temporary directories to remove on SIGINT/SIGTERM. */
const cleanups = new Set<() => void>();

/** Stops every server this process started and removes its temporary files. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((t) => t.close().catch(() => undefined)));
  live.clear();
  for (const cleanup of cleanups) cleanup();
  cleanups.clear();
}

export async function runBench(argv: readonly string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ file: string; results: BenchResults }> {
  const options = parseOptions(argv);
  const started = new Date();
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/ is missing: run `npm run -s build` first (npm run bench does)');
  const opa = requireTool(ensureTools('opa'), 'OPA');
  const pinning = options.pin ? planPinning() : undefined;
  if (pinning) pin(process.pid, pinning.client);
  const ctx: Context = { options, opa, pinning, cacheDir: join(ROOT, 'bench', '.cache'), log, live };
  const dirty = git(['status', '--porcelain', '--', 'src', 'policies', 'package.json', 'package-lock.json']).split('\n').filter(Boolean);
  const results: BenchResults = {
    schema: 1,
    startedAt: started.toISOString(),
    finishedAt: '',
    durationS: 0,
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
    options,
    machine: describeMachine(),
    pinning: pinning ?? null,
    versions: { opa: opaVersion(opa), node: process.version, commit: git(['rev-parse', '--short', 'HEAD']), dirty },
    loadAverageAtStart: loadAverage(),
    configs: [],
  };
  log(`bouncer benchmark: ${results.machine.cpus} CPUs (${results.machine.model}), Node ${process.version}, OPA ${results.versions.opa}`);
  log(pinning ? `pinning: load generator and floor on CPU ${pinning.client}, servers on CPU ${pinning.server}` : 'no CPU pinning');
  if (dirty.length > 0) log(`note: uncommitted changes in ${dirty.length} file(s) under src/, policies/ or package files are part of this measurement`);

  const sets = new Map<string, BuiltPolicySet>();
  const set = async (spec: PolicySetSpec) => {
    const known = sets.get(spec.name);
    if (known) return known;
    const built = await buildPolicySet(spec, opa, ctx.cacheDir, log, options.policySource ? resolve(options.policySource) : undefined);
    sets.set(spec.name, built);
    return built;
  };
  const corpora = new Map<string, CorpusItem[]>();
  const corpus = (profile: CorpusProfile, count: number) => {
    const key = `${profile}-${count}`;
    let items = corpora.get(key);
    if (!items) corpora.set(key, (items = generateCorpus({ profile, count, seed: options.seed })));
    return items;
  };
  const starter = { name: 'starter', source: { kind: 'starter' } } as const;
  const base = {
    systems: options.systems,
    durationMs: options.durationMs,
    repetitions: options.repetitions,
    saturationMs: options.saturationMs,
    warmupMs: options.warmupMs,
    bouncerLogLevel: 'warn' as const,
    bouncerArgs: [] as string[],
  };

  if (options.sections.includes('main')) {
    results.configs.push(
      await runConfig(ctx, {
        ...base,
        id: 'main',
        section: 'main',
        title: 'starter policies (7 validating of 9), mixed corpus',
        set: await set(starter),
        profile: 'mixed',
        corpus: corpus('mixed', options.corpusSize),
        rates: options.rates,
        saturationRepetitions: options.repetitions,
        checkIntent: true,
      }),
    );
  }
  /** bouncer alone on the starter policies and the mixed corpus, one repetition at the goal rate. */
  const bouncerOnStarter = async (section: Section, id: string, label: string, title: string, args: readonly string[]): Promise<ConfigSpec> => ({
    ...base,
    id,
    section,
    title: `${title}; starter policies, mixed corpus`,
    systems: ['bouncer'],
    set: await set(starter),
    profile: 'mixed',
    corpus: corpus('mixed', options.corpusSize),
    rates: [options.goalRate],
    repetitions: 1,
    saturationRepetitions: 1,
    bouncerLogLevel: 'warn',
    bouncerArgs: args,
    bouncerLabel: label,
    checkIntent: true,
  });
  if (options.sections.includes('variants') && options.systems.includes('bouncer')) {
    const variants = [
      { id: 'bouncer-decision-log', label: 'bouncer, decision log on', title: 'bouncer with its default decision log (--log-level info: one JSON line per review to stdout)', logLevel: 'info' as const, args: [] },
      { id: 'bouncer-workers-0', label: 'bouncer, --workers 0', title: 'bouncer evaluating on its main thread (--workers 0) instead of a worker pool', logLevel: 'warn' as const, args: ['--workers', '0'] },
      // The corpus repeats, so with the cache on nearly every review after the first pass is a
      // hit: the best case. A 1 ms time to live makes nearly every lookup a miss: the cost.
      { id: 'bouncer-cache-hits', label: 'bouncer, decision cache, ~all hits', title: 'bouncer with --decision-cache-size 10000 (the repeating corpus makes nearly every review a hit)', logLevel: 'warn' as const, args: ['--decision-cache-size', '10000'] },
      { id: 'bouncer-cache-misses', label: 'bouncer, decision cache, ~all misses', title: 'bouncer with --decision-cache-size 10000 --decision-cache-ttl 1ms (nearly every lookup a miss)', logLevel: 'warn' as const, args: ['--decision-cache-size', '10000', '--decision-cache-ttl', '1ms'] },
    ];
    for (const v of variants) {
      results.configs.push(await runConfig(ctx, { ...(await bouncerOnStarter('variants', v.id, v.label, v.title, v.args)), bouncerLogLevel: v.logLevel }));
    }
  }
  if (options.sections.includes('cores') && options.systems.includes('bouncer') && cpus().length >= 2) {
    // Every CPU for the server (shared with the load generator, pinned to CPU 0): how bouncer
    // uses more than one core — its worker-thread pool, or whole requests spread over processes.
    const all = `0-${cpus().length - 1}`;
    const n = cpus().length;
    const shapes = [
      { id: 'cores-single', label: 'one process, --workers 0', args: ['--workers', '0'] },
      { id: 'cores-pool', label: `one process, ${n} worker threads`, args: ['--workers', String(n)] },
      { id: 'cores-cluster', label: `${n} processes (node:cluster), --workers 0`, args: ['--workers', '0'], processes: n },
      { id: 'cores-cluster-pool', label: `${n} processes (node:cluster), 1 worker thread each`, args: ['--workers', '1'], processes: n },
    ];
    for (const shape of shapes) {
      const spec = await bouncerOnStarter('cores', shape.id, shape.label, `${shape.label}, on all ${n} CPUs`, shape.args);
      results.configs.push(
        await runConfig(ctx, {
          ...spec,
          saturationRepetitions: Math.max(1, Math.min(2, options.repetitions)),
          serverCpus: all,
          ...(shape.processes ? { bouncerProcesses: shape.processes } : {}),
        }),
      );
    }
  }
  if (options.sections.includes('goal')) {
    const n = options.goalPolicies;
    results.configs.push(
      await runConfig(ctx, {
        ...base,
        id: `goal-${n}`,
        section: 'goal',
        title: `${n} policies (copies of the 7 validating starters), ~5 KB reviews`,
        set: await set({ name: `validating-x${n}`, source: { kind: 'copies', templates: VALIDATING_STARTERS, count: n } }),
        profile: 'medium',
        corpus: corpus('medium', Math.min(options.corpusSize, 200)),
        rates: [options.goalRate],
        saturationRepetitions: 1,
        checkIntent: false,
      }),
    );
  }
  if (options.sections.includes('scaling')) {
    for (const profile of ['small', 'large'] as const) {
      for (const count of options.policyCounts) {
        results.configs.push(
          await runConfig(ctx, {
            ...base,
            id: `scaling-${count}-${profile}`,
            section: 'scaling',
            title: `${count} × disallow-latest-tag, ${profile === 'small' ? '~2 KB' : '~100 KB'} reviews`,
            set: await set({ name: `latest-tag-x${count}`, source: { kind: 'copies', templates: ['disallow-latest-tag'], count } }),
            profile,
            corpus: corpus(profile, Math.min(options.corpusSize, 50)),
            rates: [options.scalingRate],
            durationMs: options.scalingMs,
            saturationMs: options.scalingMs,
            warmupMs: Math.min(options.warmupMs, 1_000),
            saturationRepetitions: 1,
            checkIntent: false,
          }),
        );
      }
    }
  }

  const finished = new Date();
  results.finishedAt = finished.toISOString();
  results.durationS = Math.round((finished.getTime() - started.getTime()) / 1000);
  results.analysis = analyze(results);
  const outDir = resolve(ROOT, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);
  log(`\nresults: ${file} (${results.durationS} s)`);
  if (options.docs) {
    const docs = resolve(ROOT, options.docsFile);
    renderDocs(results, docs, file.startsWith(ROOT) ? file.slice(ROOT.length + 1) : file);
    log(`docs: ${docs}`);
  }
  return { file, results };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the servers\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  runBench(process.argv.slice(2)).then(
    ({ results }) => {
      const bad = results.configs.filter((c) => c.agreement.disagreements.length > 0);
      if (bad.length > 0) {
        process.stderr.write(`decisions differ between systems in: ${bad.map((c) => c.id).join(', ')}\n`);
        process.exitCode = 1;
      }
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
