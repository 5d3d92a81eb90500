// The overload benchmark (`npx tsx bench/overload.ts`): what bouncer does when offered more
// than it can answer, from a client that opens connections freely — what the API server's
// webhook client does when answers slow down (it does not cap its connections either).
//
// One core for bouncer (taskset), the other for vegeta; one 4 KB compliant Pod review; the
// starter disallow-privileged policy alone. Steps:
//   1. capacity: vegeta closed-loop with at most 64 connections; correct answers per second.
//   2. each storm (2x, 4x capacity by default): a fresh bouncer warmed like the capacity run's
//      (2 s of closed loop, its connections then closed), vegeta open-loop at that rate
//      for the duration WITHOUT -max-connections; goodput = correct answers (HTTP 200 and
//      allowed: true) per second of the run, peak RSS (VmHWM), then SIGTERM sent as the run's
//      last request leaves, and the time until the process is gone.
// Results go to bench/results/overload-<time>.json and a Markdown table to stdout.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBouncer } from '../hack/lib/bouncer-process.js';
import { freePort } from '../hack/lib/control-plane.js';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { parseDuration } from '../src/config/settings.js';
import { generateCorpus } from './corpus.js';
import { buildPolicySet } from './policy-sets.js';
import { findChild, limitCpu, loadAverage, memoryOf, pin, planPinning, treeCpuMs } from './proc.js';
import { attack, ensureVegeta, type AttackResult } from './vegeta.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

interface StormResult {
  readonly multiplier: number;
  readonly rate: number;
  readonly attack: AttackResult;
  readonly goodput: number;
  readonly goodputOfCapacity: number;
  readonly peakRssMb: number;
  /** bouncer's CPU time (all threads) from the storm's start to SIGTERM, per second of the storm. */
  readonly serverCpuPerSecondMs: number;
  readonly shutdownMs: number;
  readonly shutdownBoundMs: number;
  readonly exitCode: number | null;
  readonly metrics: Record<string, number>;
}

const USAGE = `usage: npx tsx bench/overload.ts [--duration 10s] [--multipliers 2,4] [--capacity N] [--label TEXT] [--bouncer-arg ARG ...]`;

/** A compliant Pod review close to 4 KB from the benchmark's corpus generator. */
function podReview(): Buffer {
  const pods = [...generateCorpus({ profile: 'small', count: 300, violating: 0 }), ...generateCorpus({ profile: 'medium', count: 300, violating: 0 })].filter((i) => i.kind === 'Pod' && i.operation === 'CREATE' && i.intent === 'compliant');
  pods.sort((a, b) => Math.abs(a.body.byteLength - 4096) - Math.abs(b.body.byteLength - 4096));
  const pod = pods[0];
  if (!pod) throw new Error('the corpus has no compliant Pod');
  return pod.body;
}

/** Counters of interest from bouncer's /metrics text (summed over labels). */
function counters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(bouncer_(?:connections_refused_total|requests_shed_total|overloaded_total|tls_handshakes_total|decisions_total|listening_pauses_total|listening_paused_seconds_total|connections_closed_total))(?:\{[^}]*\})? ([0-9.e+]+)$/.exec(line);
    if (m) out[m[1] as string] = (out[m[1] as string] ?? 0) + Number(m[2]);
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10s' },
      multipliers: { type: 'string', default: '2,4' },
      capacity: { type: 'string' },
      label: { type: 'string', default: '' },
      'server-cpu': { type: 'string' },
      'bouncer-arg': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const durationMs = parseDuration(values.duration);
  const multipliers = values.multipliers.split(',').map(Number);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const vegeta = ensureVegeta(log);
  const opa = requireTool(ensureTools('opa'), 'OPA');
  const set = await buildPolicySet({ name: 'privileged', source: { kind: 'copies', templates: ['disallow-privileged'], count: 1 } }, opa, join(ROOT, 'bench', '.cache'), log);
  const body = podReview();
  log(`review: ${body.byteLength} bytes; policy: disallow-privileged (fail-closed); load average ${loadAverage()}`);
  const pinning = planPinning();
  if (pinning) pin(process.pid, pinning.client);
  // A CPU quota for bouncer (a pod's limits.cpu): a one-core generator cannot offer 4x what a
  // whole core of bouncer answers, and a generator at its own limit measures itself.
  const serverCpu = values['server-cpu'] === undefined ? undefined : Number(values['server-cpu']);
  if (serverCpu !== undefined && !(serverCpu > 0 && serverCpu <= 1)) throw new Error('--server-cpu must be a fraction of one CPU, in (0, 1]');
  const cleanups: (() => void)[] = [];
  const shutdownDelayMs = 5000;
  const reviewTimeoutMs = 3000;

  const serve = async () => {
    const port = await freePort();
    if (pinning) pin(process.pid, pinning.server);
    const proc = await startBouncer({ bench: set.bundleFile }, ['--port', String(port), '--log-level', 'warn', '--shutdown-delay', `${shutdownDelayMs}ms`, ...values['bouncer-arg']]).finally(() => {
      if (pinning) pin(process.pid, pinning.client);
    });
    const pid = findChild(['serve', '--port', String(port)]);
    if (pid === undefined) throw new Error('cannot find the bouncer process');
    if (pinning) pin(pid, pinning.server);
    const unlimit = serverCpu === undefined ? () => undefined : limitCpu(pid, serverCpu);
    cleanups.push(unlimit);
    const target = { method: 'POST', url: `${proc.url}/validate`, header: { 'Content-Type': ['application/json'] }, body: body.toString('base64') };
    return { proc, pid, target };
  };
  const correct = (answer: Buffer) => answer.includes('"allowed":true');

  let capacity = values.capacity ? Number(values.capacity) : NaN;
  let capacityRun: AttackResult | undefined;
  if (!Number.isFinite(capacity)) {
    const { proc, target } = await serve();
    // Warm-up, then the measured closed loop.
    await attack({ vegeta, target, rate: 0, workers: 64, maxConnections: 64, durationMs: 2000, timeoutMs: 15_000, ...(pinning ? { cpus: pinning.client } : {}) }, correct);
    capacityRun = await attack({ vegeta, target, rate: 0, workers: 64, maxConnections: 64, durationMs, timeoutMs: 15_000, ...(pinning ? { cpus: pinning.client } : {}) }, correct);
    capacity = Math.round((capacityRun.correct / durationMs) * 1000);
    await proc.stop();
    log(`capacity (64 connections, closed loop): ${capacity}/s, vegeta CPU ${Math.round((capacityRun.clientCpuMs / durationMs) * 100)} %`);
  }

  const storms: StormResult[] = [];
  for (const multiplier of multipliers) {
    const { proc, pid, target } = await serve();
    // Warm, as the capacity run is (JIT, the worker's first evaluations); the warm-up's
    // connections close with its vegeta, so the storm still starts from none.
    await attack({ vegeta, target, rate: 0, workers: 64, maxConnections: 64, durationMs: 2000, timeoutMs: 15_000, ...(pinning ? { cpus: pinning.client } : {}) }, correct);
    await sleep(500);
    const rate = Math.round(capacity * multiplier);
    let peakKb = 0;
    const sampler = setInterval(() => {
      try {
        // A process that has exited (a zombie until reaped) has no VmHWM: NaN, ignored.
        const { peakKb: now } = memoryOf(pid);
        if (Number.isFinite(now)) peakKb = Math.max(peakKb, now);
      } catch {
        // gone
      }
    }, 200);
    let metricsText = '';
    let signalledAt = 0;
    const cpuAtStart = treeCpuMs(pid);
    let cpuAtSignal = cpuAtStart;
    // SIGTERM as the last request of the run is sent, while the storm's answers are still owed.
    const stopper = (async () => {
      await sleep(durationMs - 250);
      metricsText = await proc.metrics().catch(() => '');
      cpuAtSignal = treeCpuMs(pid);
      signalledAt = performance.now();
      return proc.stop('SIGTERM');
    })();
    const result = await attack({ vegeta, target, rate, durationMs, timeoutMs: 15_000, ...(pinning ? { cpus: pinning.client } : {}) }, correct);
    const exitCode = await stopper;
    const shutdownMs = Math.round(performance.now() - signalledAt);
    clearInterval(sampler);
    const goodput = Math.round((result.correct / durationMs) * 1000);
    const storm: StormResult = {
      multiplier,
      rate,
      attack: result,
      goodput,
      goodputOfCapacity: goodput / capacity,
      peakRssMb: Math.round(peakKb / 1024),
      serverCpuPerSecondMs: Math.round(((cpuAtSignal - cpuAtStart) / (durationMs - 250)) * 1000),
      shutdownMs,
      shutdownBoundMs: shutdownDelayMs + reviewTimeoutMs,
      exitCode,
      metrics: counters(metricsText),
    };
    storms.push(storm);
    log(`${multiplier}x (${rate}/s): goodput ${goodput}/s (${Math.round(storm.goodputOfCapacity * 100)} %), peak RSS ${storm.peakRssMb} MB, server CPU ${storm.serverCpuPerSecondMs} ms/s, vegeta CPU ${Math.round((result.clientCpuMs / durationMs) * 100)} %, shutdown ${shutdownMs} ms, codes ${JSON.stringify(result.codes)}, errors ${JSON.stringify(result.errors)}, metrics ${JSON.stringify(storm.metrics)}`);
  }
  for (const cleanup of cleanups) cleanup();
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const results = { label: values.label, at: new Date().toISOString(), commit, serverCpu, loadAverage: loadAverage(), durationMs, bodyBytes: body.byteLength, capacity, capacityRun, storms, bouncerArgs: values['bouncer-arg'] };
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `overload-${results.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const rows = storms.map(
    (s) =>
      `| ${s.multiplier}× (${s.rate}/s) | ${s.goodput}/s | ${Math.round(s.goodputOfCapacity * 100)} % | ${s.attack.correctP99Ms.toFixed(0)} ms | ${s.peakRssMb} MB | ${(s.shutdownMs / 1000).toFixed(1)} s (bound ${s.shutdownBoundMs / 1000} s) |`,
  );
  process.stdout.write(
    [`capacity ${capacity}/s (commit ${commit}, ${values.label})`, '', '| offered | goodput | of capacity | p99 of correct answers | peak RSS | SIGTERM to exit |', '|---|---|---|---|---|---|', ...rows, '', `results: ${file}`, ''].join('\n'),
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
