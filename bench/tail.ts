// The tail-stability benchmark (`npx tsx bench/tail.ts`, not part of `npm run bench`): is
// bouncer's p99 a property of the server or of luck? The starter policies on a held-out mixed
// corpus (its own seed: 2-100 KB reviews, Pods to 90 KB Deployment UPDATEs), open loop at each
// rate for N repetitions of D each, measured twice per repetition: by the harness's own client
// (latency from each request's intended send time: no coordinated omission) and by vegeta, an
// external generator (`-rate`, at most 64 connections like the harness). Reported: the
// distribution of per-repetition p99s (not only the median), worst/median, the largest latency,
// and the main thread's event-loop delay over each repetition (prom-client's
// monitorEventLoopDelay gauges, reset at each scrape). Decisions are checked against the
// corpus's intent first; a difference fails the run.
//   npx tsx bench/tail.ts [--rates 500,1000] [--reps 10] [--duration 10s] [--label TEXT] [--bouncer-arg ARG ...]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { parseDuration } from '../src/config/settings.js';
import { expectedAllowed, generateCorpus } from './corpus.js';
import { openLoop } from './load.js';
import { buildPolicySet } from './policy-sets.js';
import { loadAverage, planPinning } from './proc.js';
import { startBouncerTarget } from './targets.js';
import { attack, ensureVegeta } from './vegeta.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Not the corpus seed the main benchmark tunes against. */
const HELD_OUT_SEED = 4_242_001;

interface Repetition {
  readonly client: 'harness' | 'vegeta';
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly completed: number;
  readonly errors: number;
  /** Event-loop delay over the repetition (max and p99 of the main thread's delay), ms. */
  readonly loopMaxMs: number;
  readonly loopP99Ms: number;
  /** With --trace-gc: the main thread's GC pauses of 2 ms or more during the repetition. */
  readonly gc?: { readonly count: number; readonly majors: number; readonly maxMs: number; readonly totalMs: number };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

/** GC lines (bench/gc-trace-hook.mjs) in the server's log since the last call. */
function gcSince(logs: () => string[]): () => Repetition['gc'] {
  let seen = 0;
  return () => {
    const lines = logs().filter((l) => l.includes('[gc] '));
    const fresh = lines.slice(seen);
    seen = lines.length;
    const pauses = fresh.map((l) => ({ major: / major /.test(l), ms: Number(/ ([0-9.]+) ms/.exec(l)?.[1]) }));
    return { count: pauses.length, majors: pauses.filter((p) => p.major).length, maxMs: Math.max(0, ...pauses.map((p) => p.ms)), totalMs: pauses.reduce((n, p) => n + p.ms, 0) };
  };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string', default: '500,1000' },
      reps: { type: 'string', default: '10' },
      duration: { type: 'string', default: '10s' },
      label: { type: 'string', default: '' },
      'trace-gc': { type: 'boolean', default: false },
      'bouncer-arg': { type: 'string', multiple: true, default: [] },
    },
  });
  const rates = values.rates.split(',').map(Number);
  const reps = Number(values.reps);
  const durationMs = parseDuration(values.duration);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const vegeta = ensureVegeta(log);
  const opa = requireTool(ensureTools('opa'), 'OPA');
  const set = await buildPolicySet({ name: 'starter', source: { kind: 'starter' } }, opa, join(ROOT, 'bench', '.cache'), log);
  const corpus = generateCorpus({ profile: 'mixed', count: 1000, seed: HELD_OUT_SEED });
  const bodies = corpus.map((i) => i.body);
  const pinning = planPinning();
  const target = await startBouncerTarget(set.bundleFile, {
    logLevel: 'warn',
    maxSockets: 64,
    // Both clients' connection pools stay open side by side (64 each): room for both, so no
    // connect meets the edge limits, which this benchmark is not about.
    extraArgs: ['--max-connections', '256', ...values['bouncer-arg']],
    traceGc: values['trace-gc'],
    ...(pinning ? { cpus: pinning.server, clientCpus: pinning.client } : {}),
  });
  const vegetaTargets = bodies.map((b) => ({ method: 'POST', url: `https://127.0.0.1:${targetPort(target)}/validate`, header: { 'Content-Type': ['application/json'] }, body: b.toString('base64') }));
  try {
    // Decisions first: every item once, against the corpus's intent.
    const wrong: number[] = [];
    for (const item of corpus) if ((await target.send(item.body)) !== expectedAllowed(item)) wrong.push(item.index);
    if (wrong.length > 0) throw new Error(`decisions differ from the corpus's intent for items ${wrong.slice(0, 10).join(', ')}`);
    log(`decisions: ${corpus.length} items as intended; load average ${loadAverage()}`);
    await openLoop(target.send, bodies, { rate: 500, durationMs: 3000, maxOutstanding: 64 });
    const scrape = async () => (target.metricsText ? await target.metricsText() : '');
    const gc = values['trace-gc'] ? gcSince(() => target.logTail(1_000_000)) : () => undefined;
    const results: Record<string, Repetition[]> = {};
    for (const rate of rates) {
      const runs: Repetition[] = [];
      for (let rep = 0; rep < reps; rep++) {
        await scrape();
        gc();
        const own = await openLoop(target.send, bodies, { rate, durationMs, maxOutstanding: 64, deadlineMs: durationMs * 1.2 + 500 });
        const afterOwn = await scrape();
        runs.push({
          client: 'harness',
          p50Ms: own.latencyMs.p50,
          p99Ms: own.latencyMs.p99,
          maxMs: own.latencyMs.max,
          completed: own.completed,
          errors: own.errors + own.unsent,
          loopMaxMs: gauge(afterOwn, 'bouncer_nodejs_eventloop_lag_max_seconds') * 1000,
          loopP99Ms: gauge(afterOwn, 'bouncer_nodejs_eventloop_lag_p99_seconds') * 1000,
          ...(values['trace-gc'] ? { gc: gc() } : {}),
        });
        const ext = await attack({ vegeta, targets: vegetaTargets, rate, durationMs, maxConnections: 64, timeoutMs: 10_000, ...(pinning ? { cpus: pinning.client } : {}) }, (b) => b.includes('"allowed":'));
        const afterExt = await scrape();
        runs.push({
          client: 'vegeta',
          p50Ms: ext.correctP50Ms,
          p99Ms: ext.correctP99Ms,
          maxMs: ext.correctMaxMs,
          completed: ext.correct,
          errors: ext.requests - ext.correct,
          loopMaxMs: gauge(afterExt, 'bouncer_nodejs_eventloop_lag_max_seconds') * 1000,
          loopP99Ms: gauge(afterExt, 'bouncer_nodejs_eventloop_lag_p99_seconds') * 1000,
          ...(values['trace-gc'] ? { gc: gc() } : {}),
        });
        const [a, b] = runs.slice(-2) as [Repetition, Repetition];
        log(`${rate}/s rep ${rep + 1}: harness p99 ${a.p99Ms.toFixed(2)} ms max ${a.maxMs.toFixed(1)} ms; vegeta p99 ${b.p99Ms.toFixed(2)} ms max ${b.maxMs.toFixed(1)} ms; loop max ${a.loopMaxMs.toFixed(1)}/${b.loopMaxMs.toFixed(1)} ms; errors ${a.errors}/${b.errors}${a.gc && b.gc ? `; GC >=2 ms ${a.gc.count}/${b.gc.count} (major ${a.gc.majors}/${b.gc.majors}, max ${a.gc.maxMs.toFixed(1)}/${b.gc.maxMs.toFixed(1)} ms)` : ''}`);
      }
      results[rate] = runs;
    }
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const out = { label: values.label, at: new Date().toISOString(), commit, loadAverage: loadAverage(), durationMs, reps, bouncerArgs: values['bouncer-arg'], results };
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `tail-${out.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    const rows: string[] = [];
    for (const rate of rates) {
      for (const client of ['harness', 'vegeta'] as const) {
        const runs = (results[rate] ?? []).filter((r) => r.client === client);
        const p99s = runs.map((r) => r.p99Ms).sort((a, b) => a - b);
        const med = median(p99s);
        const worst = p99s[p99s.length - 1] ?? NaN;
        const maxes = runs.map((r) => r.maxMs);
        rows.push(
          `| ${rate}/s | ${client} | ${p99s.map((x) => x.toFixed(1)).join(', ')} | ${med.toFixed(2)} | ${worst.toFixed(2)} | ${(worst / med).toFixed(2)} | ${Math.max(...maxes).toFixed(1)} | ${runs.filter((r) => r.maxMs > 50).length} | ${Math.max(...runs.map((r) => r.loopMaxMs)).toFixed(1)} | ${runs.reduce((n, r) => n + r.errors, 0)} |`,
        );
      }
    }
    process.stdout.write(
      [
        `tail stability (commit ${commit}, ${reps} x ${durationMs / 1000} s per rate and client, ${values.label})`,
        '',
        '| rate | client | per-run p99, ms (sorted) | median p99 | worst p99 | worst / median | largest latency, ms | runs with a request > 50 ms | event-loop delay max, ms | errors |',
        '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
        ...rows,
        '',
        `results: ${file}`,
        '',
      ].join('\n'),
    );
  } finally {
    await target.close();
  }
}

/** The port bouncer listens on (from the process's arguments). */
function targetPort(target: { pid: number | undefined }): string {
  const args = execFileSync('ps', ['-o', 'args=', '-p', String(target.pid)], { encoding: 'utf8' });
  const m = /--port (\d+)/.exec(args);
  if (!m) throw new Error('cannot find the port of the bouncer process');
  return m[1] as string;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
