// Loaded into `bouncer serve` with NODE_OPTIONS=--import (bench/tail.ts --trace-gc): writes one
// stderr line per garbage collection of the main thread that took at least
// BOUNCER_BENCH_GC_MS (default 2) ms, with its kind, so a latency spike can be matched to a GC.
// It only observes; nothing runs at import beyond registering the observer.
import { PerformanceObserver } from 'node:perf_hooks';

const KINDS = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
const threshold = Number(process.env.BOUNCER_BENCH_GC_MS ?? 2);
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.duration < threshold) continue;
    process.stderr.write(`[gc] ${Date.now()} ${KINDS[entry.detail?.kind] ?? entry.detail?.kind} ${entry.duration.toFixed(1)} ms\n`);
  }
}).observe({ entryTypes: ['gc'] });
