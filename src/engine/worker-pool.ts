// Evaluation on worker threads: both cores work, and a policy that runs past its time
// budget cannot hang the server. WASM cannot be interrupted, so a worker whose current
// entrypoint exceeds the per-policy budget is terminated and replaced; that policy's
// outcome is a timeout (its failure mode decides) and the review's other policies are
// evaluated again on a healthy worker. The queue is bounded: beyond it, or past the
// review's deadline, policies fail fast as overloaded instead of the API server timing out.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EvalBackend, EvalJob, Loadable } from './backend.js';
import type { EngineFailure, EvalOutcome } from './evaluator.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

export interface PoolOptions {
  readonly size: number;
  /** Reviews waiting for a worker; beyond it new reviews fail fast (overload). */
  readonly maxQueue: number;
  /** Longest one policy may run before its worker is replaced. */
  readonly policyTimeoutMs: number;
  readonly log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  readonly onTimeout?: () => void;
  readonly onOverload?: () => void;
}

interface Task {
  readonly input: Uint8Array;
  readonly jobs: readonly EvalJob[];
  readonly deadline: number;
  readonly resolve: (outcomes: EvalOutcome[][]) => void;
}

interface Slot {
  worker: Worker;
  progress: Int32Array;
  ready: Promise<void>;
  task?: { id: number; task: Task; position: number; since: number };
  waiting: Map<string, { resolve: () => void; reject: (err: Error) => void }>;
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

export function createWorkerPool(options: PoolOptions): EvalBackend {
  const bundles = new Map<string, Loadable>();
  const queue: Task[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  const post = (slot: Slot, message: ToWorker) => slot.worker.postMessage(message);

  function prepareOn(slot: Slot, bundle: Loadable): Promise<void> {
    return new Promise((resolve, reject) => {
      slot.waiting.set(bundle.key, { resolve, reject });
      post(slot, {
        type: 'prepare',
        key: bundle.key,
        module: bundle.wasm.module,
        entrypoints: bundle.wasm.entrypoints,
        hostBuiltins: bundle.wasm.hostBuiltins,
        data: bundle.data,
        limits: bundle.limits,
      });
    });
  }

  function spawn(): Slot {
    const shared = new SharedArrayBuffer(4);
    const worker = new Worker(workerEntry(), { workerData: { progress: shared } });
    const slot: Slot = { worker, progress: new Int32Array(shared), ready: Promise.resolve(), waiting: new Map() };
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'prepared') {
        const waiter = slot.waiting.get(message.key);
        slot.waiting.delete(message.key);
        if (message.error) waiter?.reject(new Error(message.error));
        else waiter?.resolve();
        return;
      }
      const running = slot.task;
      if (!running || running.id !== message.id) return;
      slot.task = undefined;
      running.task.resolve(message.outcomes);
      dispatch();
    });
    worker.on('error', (err) => {
      options.log.error({ err }, 'evaluation worker crashed; replacing it');
      replace(slot, { class: 'runtime', message: `the evaluation worker crashed: ${err.message}` });
    });
    slot.ready = Promise.all([...bundles.values()].map((b) => prepareOn(slot, b))).then(() => undefined);
    return slot;
  }

  /** Terminates a slot's worker; its running task is finished with `failure` for the current policy. */
  function replace(slot: Slot, failure: EngineFailure): void {
    const running = slot.task;
    slot.task = undefined;
    void slot.worker.terminate();
    for (const w of slot.waiting.values()) w.reject(new Error('worker replaced'));
    const index = slots.indexOf(slot);
    if (!closed && index >= 0) slots[index] = spawn();
    if (running) retryWithout(running.task, running.position - 1, failure);
    dispatch();
  }

  /** Finishes `task` with entrypoint `hung` (flattened index) failed, evaluating the others again. */
  function retryWithout(task: Task, hung: number, failure: EngineFailure): void {
    const flat = task.jobs.flatMap((job, j) => job.entrypoints.map((e, i) => ({ j, i, e })));
    const others = flat.filter((_, k) => k !== hung);
    const remaining = task.jobs
      .map((job, j) => ({ bundle: job.bundle, entrypoints: others.filter((o) => o.j === j).map((o) => o.e) }))
      .filter((job) => job.entrypoints.length > 0);
    const merge = (partial: EvalOutcome[][]) => {
      const results = failAll(task.jobs, failure);
      let r = 0;
      const flatPartial = partial.flat();
      others.forEach((o) => (results[o.j]![o.i] = flatPartial[r++] ?? fail(failure)));
      task.resolve(results);
    };
    if (remaining.length === 0 || hung < 0) {
      task.resolve(failAll(task.jobs, failure));
      return;
    }
    enqueue({ input: task.input, jobs: remaining, deadline: task.deadline, resolve: merge });
  }

  function enqueue(task: Task): void {
    if (queue.length >= options.maxQueue) {
      options.onOverload?.();
      task.resolve(failAll(task.jobs, { class: 'overload', message: 'bouncer is at capacity; the review was not evaluated' }));
      return;
    }
    queue.push(task);
    dispatch();
  }

  function dispatch(): void {
    for (const slot of slots) {
      if (slot.task) continue;
      // Reviews already past their deadline are answered as overloaded; the slot then takes the
      // next one, so an idle worker never waits while reviews are queued.
      let task: Task | undefined;
      while ((task = queue.shift()) && Date.now() >= task.deadline) {
        options.onOverload?.();
        task.resolve(failAll(task.jobs, { class: 'overload', message: 'the review waited past its deadline for a worker' }));
      }
      if (!task) return;
      const id = nextId++;
      slot.task = { id, task, position: 0, since: Date.now() };
      Atomics.store(slot.progress, 0, 0);
      void slot.ready.then(
        () => post(slot, { type: 'evaluate', id, input: (task as Task).input, jobs: (task as Task).jobs.map((j) => ({ key: j.bundle.key, entrypoints: j.entrypoints })) }),
        () => undefined,
      );
    }
  }

  // The watchdog: a policy running past its budget (or a review past its deadline) loses its worker.
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const slot of slots) {
      const running = slot.task;
      if (!running) continue;
      const position = Atomics.load(slot.progress, 0);
      if (position !== running.position) {
        running.position = position;
        running.since = now;
        continue;
      }
      const overDeadline = now >= running.task.deadline;
      if (position > 0 && (now - running.since > options.policyTimeoutMs || overDeadline)) {
        options.onTimeout?.();
        options.log.warn({ budgetMs: options.policyTimeoutMs, position }, 'a policy ran past its time budget; replacing its worker');
        replace(slot, { class: 'timeout', message: `the policy ran past its ${options.policyTimeoutMs} ms budget` });
      } else if (overDeadline && now - running.since > options.policyTimeoutMs) {
        replace(slot, { class: 'timeout', message: 'the review ran past its deadline' });
      }
    }
  }, Math.max(5, Math.min(50, Math.floor(options.policyTimeoutMs / 4))));
  watchdog.unref();

  for (let i = 0; i < Math.max(1, options.size); i++) slots.push(spawn());

  return {
    async prepare(bundle) {
      bundles.set(bundle.key, bundle);
      await Promise.all(slots.map((slot) => slot.ready.then(() => prepareOn(slot, bundle))));
    },
    retain(keys) {
      const drop = [...bundles.keys()].filter((k) => !keys.has(k));
      if (drop.length === 0) return;
      for (const key of drop) bundles.delete(key);
      for (const slot of slots) post(slot, { type: 'release', keys: drop });
    },
    evaluate(input, jobs, deadline) {
      if (jobs.length === 0) return Promise.resolve([]);
      return new Promise((resolve) => enqueue({ input, jobs, deadline, resolve }));
    },
    async close() {
      closed = true;
      clearInterval(watchdog);
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
