// Evaluation on worker threads: both cores work, and a policy that runs past its time
// budget cannot hang the server. WASM cannot be interrupted, so a worker whose current
// entrypoint runs too long is terminated and replaced; that policy's outcome is a timeout
// (its failure mode decides) and the review's policies not yet evaluated are evaluated on
// another worker, ahead of every queued review.
//
// The review's budget is a deadline carried with its task: each policy may run for
// min(policy timeout, time left), a task still queued at its deadline is answered at once,
// and policies not started by then fail as not evaluated. The queue is bounded: beyond it
// reviews fail fast as overloaded instead of the API server timing out.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EvalBackend, EvalJob } from './backend.js';
import { encodeChanges } from './data-change-codec.js';
import type { EngineFailure, EvalOutcome } from './evaluator.js';
import { startSlot, type Running, type SeededBundle, type Slot, type Task } from './worker-slot.js';

export interface PoolOptions {
  readonly size: number;
  /** Reviews waiting for a worker; beyond it new reviews fail fast (overload). */
  readonly maxQueue: number;
  /** Longest one policy may run before its worker is replaced. */
  readonly policyTimeoutMs: number;
  readonly log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  readonly onTimeout?: () => void;
  readonly onOverload?: () => void;
  /** The worker's entry module (default: eval-worker next to this file). */
  readonly workerUrl?: URL;
  /**
   * Workers kept booted beside the pool (default 1), so a worker stopped for a timeout is
   * replaced at once: a boot (a thread, and every bundle instantiated) takes long enough that
   * the review's remaining policies would otherwise miss its deadline.
   */
  readonly spares?: number;
}

const fail = (failure: EngineFailure) => ({ ok: false as const, failure });

/** The same failure for every entrypoint of every job. */
function failAll(jobs: readonly EvalJob[], failure: EngineFailure): EvalOutcome[][] {
  return jobs.map((job) => job.entrypoints.map(() => fail(failure)));
}

/**
 * The compiled worker next to this file. Run from TypeScript sources (tsx, vitest) there is
 * none: a small bootstrap registers tsx's loader inside the worker (Node 20 does not pass
 * --import loaders to workers) and then imports the TypeScript worker.
 */
function workerEntry(): URL {
  const js = new URL('./eval-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return js;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/index\.cjs$/, 'index.mjs');
  const ts = new URL('./eval-worker.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(ts)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

const NOT_STARTED: EngineFailure = {
  class: 'overload',
  code: 'POLICY_NOT_EVALUATED',
  message: "not evaluated: the review's time budget ran out before this policy started",
};
const AT_CAPACITY: EngineFailure = { class: 'overload', code: 'POLICY_NOT_EVALUATED', message: 'bouncer is at capacity; the review was not evaluated' };

/**
 * Finishes `task` from what is known: outcomes the worker reported (`done`) and `failure` for
 * entrypoint `hung` (flattened index; -1 for none). The rest become a task to run next, or
 * with `retry` false fail with `failure` too; with nothing left, `task` is resolved at once.
 */
function remainder(task: Task, done: ReadonlyMap<number, EvalOutcome>, hung: number, failure: EngineFailure, retry: boolean): Task | undefined {
  const flat = task.jobs.flatMap((job, j) => job.entrypoints.map((e, i) => ({ j, i, e })));
  const known = (k: number) => done.get(k) ?? (k === hung ? fail(failure) : undefined);
  const left = flat.map((f, k) => ({ ...f, k })).filter((f) => known(f.k) === undefined);
  const results = task.jobs.map((job) => job.entrypoints.map((): EvalOutcome => fail(failure)));
  flat.forEach((f, k) => {
    const outcome = known(k);
    if (outcome) results[f.j]![f.i] = outcome;
  });
  if (left.length === 0 || !retry) {
    task.resolve(results);
    return undefined;
  }
  const jobs = task.jobs
    .map((job, j) => ({ bundle: job.bundle, entrypoints: left.filter((l) => l.j === j).map((l) => l.e) }))
    .filter((job) => job.entrypoints.length > 0);
  const merge = (partial: EvalOutcome[][]) => {
    const flatPartial = partial.flat();
    left.forEach((l, r) => (results[l.j]![l.i] = flatPartial[r] ?? fail(failure)));
    task.resolve(results);
  };
  return { input: task.input, jobs, deadline: task.deadline, resolve: merge, retry: true, ...(task.nowNs === undefined ? {} : { nowNs: task.nowNs }) };
}

/** Creates the pool; `close()` stops every worker. */
export function createWorkerPool(options: PoolOptions): EvalBackend {
  const entry = options.workerUrl ?? workerEntry();
  const bundles = new Map<string, SeededBundle>();
  /** Waiting tasks, oldest first; retries of stopped tasks go first. */
  const queue: Task[] = [];
  const slots: Slot[] = [];
  const spares: Slot[] = [];
  let nextId = 1;
  let closed = false;

  const events = {
    onReady: () => dispatch(),
    onResult: (_slot: Slot, running: Running, outcomes: EvalOutcome[][]) => {
      running.task.resolve(outcomes);
      releaseRetired();
      dispatch();
    },
    onCrash: (slot: Slot, err: Error) => {
      options.log.error({ err }, 'evaluation worker crashed; replacing it');
      replace(slot, { class: 'runtime', message: `the evaluation worker crashed: ${err.message}` });
    },
  };
  const spawn = () => startSlot(entry, bundles.values(), events);

  /**
   * Bundles no longer in the active set, released once no task queued or running uses them: a
   * review takes its policy-set snapshot before it waits for a worker, so a swap must not pull
   * an old revision out from under the reviews already queued for it.
   */
  const retired = new Set<string>();
  /**
   * Keys whose prepare is still in flight. Bundles load concurrently: a set published while
   * another bundle is being prepared does not have it yet, and retiring it then would release
   * it from every worker just before it is activated ("not loaded in this worker").
   */
  const preparing = new Map<string, number>();
  function releaseRetired(): void {
    if (retired.size === 0) return;
    const inUse = new Set<string>();
    const use = (task: Task) => {
      for (const job of task.jobs) inUse.add(job.bundle.key);
    };
    queue.forEach(use);
    for (const slot of slots) if (slot.running) use(slot.running.task);
    const drop = [...retired].filter((k) => !inUse.has(k));
    if (drop.length === 0) return;
    for (const key of drop) {
      retired.delete(key);
      bundles.delete(key);
    }
    for (const slot of [...slots, ...spares]) slot.release(drop);
  }

  /** Terminates a slot's worker; its running task continues elsewhere without the current policy. */
  function replace(slot: Slot, failure: EngineFailure): void {
    const running = slot.running;
    slot.running = undefined;
    void slot.stop();
    const index = slots.indexOf(slot);
    if (!closed && index >= 0) {
      // A spare still booting is further along than a new worker.
      const spare = Math.max(0, spares.findIndex((s) => s.ready));
      slots[index] = spares.splice(spare, 1)[0] ?? spawn();
      while (spares.length < (options.spares ?? 1)) spares.push(spawn());
    }
    if (running) {
      // A policy was running: it gets `failure`, the others go on elsewhere. None was (the
      // input was being read): nothing says what to blame, so every policy gets `failure`.
      const again = remainder(running.task, running.done, running.position - 1, failure, running.position > 0);
      // Already admitted: ahead of the queue and outside its bound.
      if (again) queue.unshift(again);
    }
    dispatch();
  }

  /** Answers a task that can no longer start in time. */
  function expire(task: Task): void {
    options.onOverload?.();
    task.resolve(failAll(task.jobs, NOT_STARTED));
  }

  function dispatch(): void {
    for (const slot of slots) {
      if (slot.running || !slot.ready) continue;
      let task: Task | undefined;
      while ((task = queue.shift()) && Date.now() >= task.deadline) expire(task);
      if (!task) return;
      slot.start(nextId++, task);
    }
  }

  // The watchdog: a policy past its own budget or past the review's deadline loses its worker;
  // a task still queued at its deadline is answered.
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const slot of slots) {
      const running = slot.running;
      if (!running) continue;
      const position = slot.position();
      if (position !== running.position) {
        running.position = position;
        running.since = now;
      }
      const overBudget = position > 0 && now - running.since > options.policyTimeoutMs;
      const overDeadline = now >= running.task.deadline;
      if (!overBudget && !overDeadline) continue;
      if (position === 0) {
        options.onOverload?.();
        replace(slot, NOT_STARTED);
        continue;
      }
      options.onTimeout?.();
      options.log.warn({ budgetMs: options.policyTimeoutMs, position, atDeadline: !overBudget }, 'a policy ran past its time budget; replacing its worker');
      const message = overBudget ? `the policy ran past its ${options.policyTimeoutMs} ms budget` : "the policy was stopped when the review's time budget ran out";
      replace(slot, { class: 'timeout', code: 'POLICY_TIMEOUT', message });
    }
    for (let i = queue.length - 1; i >= 0; i--) {
      const task = queue[i] as Task;
      if (now < task.deadline) continue;
      queue.splice(i, 1);
      expire(task);
    }
    releaseRetired();
  }, Math.max(5, Math.min(50, Math.floor(options.policyTimeoutMs / 4))));
  watchdog.unref();

  for (let i = 0; i < Math.max(1, options.size); i++) slots.push(spawn());
  for (let i = 0; i < (options.spares ?? 1); i++) spares.push(spawn());

  return {
    async prepare(bundle, seed) {
      // Encoded once for every worker now; a worker booted later reads it again at its boot.
      const encoded = seed && (() => encodeChanges(seed()));
      bundles.set(bundle.key, { bundle, ...(encoded ? { seed: encoded } : {}) });
      retired.delete(bundle.key);
      preparing.set(bundle.key, (preparing.get(bundle.key) ?? 0) + 1);
      try {
        const now = encoded?.();
        await Promise.all([...slots, ...spares].map((slot) => slot.prepare(bundle, now)));
      } finally {
        const left = (preparing.get(bundle.key) ?? 1) - 1;
        if (left > 0) preparing.set(bundle.key, left);
        else preparing.delete(bundle.key);
      }
    },
    updateData(key, changes) {
      if (changes.length === 0 || !bundles.has(key)) return;
      // Every slot, booting or not, and every spare: each got its seed before this.
      const encoded = encodeChanges(changes);
      for (const slot of [...slots, ...spares]) slot.updateData(key, encoded);
    },
    retain(keys) {
      for (const key of bundles.keys()) if (!keys.has(key) && !preparing.has(key)) retired.add(key);
      for (const key of keys) retired.delete(key);
      releaseRetired();
    },
    evaluate(input, jobs, deadline, nowNs) {
      if (jobs.length === 0) return Promise.resolve([]);
      return new Promise((resolve) => {
        if (queue.length >= options.maxQueue) {
          options.onOverload?.();
          resolve(failAll(jobs, AT_CAPACITY));
          return;
        }
        queue.push({ input, jobs, deadline, resolve, ...(nowNs === undefined ? {} : { nowNs }) });
        dispatch();
      });
    },
    async close() {
      closed = true;
      clearInterval(watchdog);
      await Promise.all([...slots, ...spares].map((s) => s.stop()));
    },
  };
}
