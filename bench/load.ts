// Load generation.
//
// Open loop (fixed rate): request i is due at start + i/rate whatever happened to the
// requests before it, and its latency is measured from that intended send time, not from
// when it actually left (so a server that stalls is charged for the queue it causes: no
// coordinated omission, as in wrk2). At most `maxOutstanding` requests are in flight;
// requests due while that many are outstanding wait in the client, and that wait counts.
// A run that cannot keep up is cut off at a deadline and reported as not sustained.
//
// Closed loop (saturation): N connections each send the next request as soon as the
// previous answer arrives; completions per second is the maximum throughput.
import type { Buffer } from 'node:buffer';
import { setImmediate as immediate } from 'node:timers/promises';

export type Send = (body: Buffer) => Promise<boolean>;

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export function percentiles(values: Float64Array | readonly number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[n - 1] as number, mean: sum / n };
}

export interface OpenLoopResult {
  readonly mode: 'open';
  readonly rate: number;
  readonly durationMs: number;
  /** Requests scheduled for the run (rate × duration). */
  readonly scheduled: number;
  readonly completed: number;
  readonly errors: number;
  /** Due requests never sent because the run hit its deadline. */
  readonly unsent: number;
  readonly achievedRps: number;
  /** From the intended send time to the parsed answer, ms (successful requests). */
  readonly latencyMs: Percentiles;
  /** From the actual send to the parsed answer, ms. */
  readonly serviceMs: Percentiles;
  /** How late requests left the client relative to their schedule, ms (harness health). */
  readonly sendLagMs: Percentiles;
  /** The server kept up: everything sent, no errors, throughput within 2 % of the rate. */
  readonly sustained: boolean;
  readonly errorSamples: readonly string[];
}

export interface OpenLoopOptions {
  readonly rate: number;
  readonly durationMs: number;
  readonly maxOutstanding: number;
  /** Stop sending after this long (default 2 × duration + 5 s; the harness uses 1.2 × duration + 0.5 s). */
  readonly deadlineMs?: number;
}

export function openLoop(send: Send, bodies: readonly Buffer[], options: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round((options.rate * options.durationMs) / 1000));
  const interval = 1000 / options.rate;
  const latency = new Float64Array(total).fill(NaN);
  const service = new Float64Array(total).fill(NaN);
  const lag = new Float64Array(total).fill(NaN);
  const errorSamples: string[] = [];
  let next = 0;
  let outstanding = 0;
  let completed = 0;
  let errors = 0;
  let stopped = false;
  let scheduled = false;
  const start = performance.now() + 1;
  const deadline = start + (options.deadlineMs ?? options.durationMs * 2 + 5_000);
  let lastCompletion = start;

  return new Promise((resolve) => {
    const finish = () => {
      const ok = (a: Float64Array) => a.filter((v) => !Number.isNaN(v));
      const elapsed = Math.max(lastCompletion - start, options.durationMs);
      const unsent = total - next;
      const achievedRps = (completed * 1000) / elapsed;
      resolve({
        mode: 'open',
        rate: options.rate,
        durationMs: options.durationMs,
        scheduled: total,
        completed,
        errors,
        unsent,
        achievedRps,
        latencyMs: percentiles(ok(latency)),
        serviceMs: percentiles(ok(service)),
        sendLagMs: percentiles(ok(lag)),
        sustained: unsent === 0 && errors === 0 && achievedRps >= options.rate * 0.98,
        errorSamples,
      });
    };
    const done = () => (stopped || next >= total) && outstanding === 0;

    const fire = (i: number, intended: number) => {
      outstanding++;
      const sentAt = performance.now();
      lag[i] = sentAt - intended;
      send(bodies[i % bodies.length] as Buffer).then(
        () => {
          const end = performance.now();
          latency[i] = end - intended;
          service[i] = end - sentAt;
          completed++;
          lastCompletion = end;
        },
        (err: unknown) => {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(String((err as Error)?.message ?? err));
        },
      ).finally(() => {
        outstanding--;
        if (done()) finish();
        else if (!scheduled) pump();
      });
    };

    const schedule = () => {
      if (scheduled || stopped || next >= total || outstanding >= options.maxOutstanding) return;
      scheduled = true;
      const wait = start + next * interval - performance.now();
      // Timers are coarse (≥ 1 ms); the last stretch before a due time is polled.
      if (wait > 2) setTimeout(pump, wait - 1.5);
      else setImmediate(pump);
    };

    function pump(): void {
      scheduled = false;
      const now = performance.now();
      if (now > deadline) stopped = true;
      while (!stopped && next < total && outstanding < options.maxOutstanding) {
        const intended = start + next * interval;
        if (intended > now) break;
        fire(next++, intended);
      }
      if (done()) finish();
      else schedule();
    }

    setTimeout(pump, 1);
  });
}

export interface ClosedLoopResult {
  readonly mode: 'closed';
  readonly connections: number;
  readonly durationMs: number;
  readonly completed: number;
  readonly errors: number;
  readonly throughputRps: number;
  readonly latencyMs: Percentiles;
  readonly errorSamples: readonly string[];
}

export async function closedLoop(send: Send, bodies: readonly Buffer[], options: { connections: number; durationMs: number }): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let index = 0;
  let errors = 0;
  const start = performance.now();
  const end = start + options.durationMs;
  const worker = async () => {
    // Start each connection on its own turn of the event loop.
    await immediate();
    while (performance.now() < end) {
      const body = bodies[index++ % bodies.length] as Buffer;
      const t = performance.now();
      try {
        await send(body);
        latencies.push(performance.now() - t);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(String((err as Error)?.message ?? err));
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsed = performance.now() - start;
  return {
    mode: 'closed',
    connections: options.connections,
    durationMs: elapsed,
    completed: latencies.length,
    errors,
    throughputRps: (latencies.length * 1000) / elapsed,
    latencyMs: percentiles(latencies),
    errorSamples,
  };
}
