// One evaluation worker as the pool sees it: the thread, whether it has finished booting,
// the task it runs and how far that task got. The pool decides what runs where and when a
// worker is stopped; a slot only starts, feeds and reports.
import { Worker } from 'node:worker_threads';
import type { EvalJob, Loadable } from './backend.js';
import type { EvalOutcome } from './evaluator.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** A review's evaluation: every job's entrypoints against one input, answered by its deadline. */
export interface Task {
  readonly input: Uint8Array;
  readonly jobs: readonly EvalJob[];
  /** Epoch ms by which the review must be answered (its budget, carried with it). */
  readonly deadline: number;
  readonly resolve: (outcomes: EvalOutcome[][]) => void;
  /** The rest of a task whose worker was stopped: outcomes are reported as they are made. */
  readonly retry?: boolean;
  /** time.now_ns for the whole task (backend.ts evaluate). */
  readonly nowNs?: bigint;
}

export interface Running {
  readonly id: number;
  readonly task: Task;
  /** The flattened entrypoint running, +1 (0: none started yet), as last seen by the watchdog. */
  position: number;
  /** When `position` was first seen. */
  since: number;
  /** Outcomes the worker reported before finishing, by flattened entrypoint index. */
  readonly done: Map<number, EvalOutcome>;
}

export interface Slot {
  readonly worker: Worker;
  /** Booted with every bundle known when it started; only ready slots are given tasks. */
  ready: boolean;
  running: Running | undefined;
  /** Position of the running task's current entrypoint (written by the worker). */
  position(): number;
  /** Makes `bundle` evaluable here, with `seed` (encoded changes) as its replicated data; rejects if the worker cannot load it. */
  prepare(bundle: Loadable, seed?: Uint8Array): Promise<void>;
  /** Posts encoded changes to a bundle's data; they apply in order with what is posted around them. */
  updateData(key: string, changes: Uint8Array): void;
  release(keys: readonly string[]): void;
  start(id: number, task: Task): void;
  stop(): Promise<number>;
}

export interface SlotEvents {
  /** The worker finished its boot (its initial bundles prepared, or failed to). */
  readonly onReady: (slot: Slot) => void;
  /** The running task finished with these outcomes. */
  readonly onResult: (slot: Slot, running: Running, outcomes: EvalOutcome[][]) => void;
  /** The thread failed (uncaught error); the pool replaces it. */
  readonly onCrash: (slot: Slot, err: Error) => void;
}

/** A bundle as a booting worker gets it: with its replicated data, read at the moment of the boot. */
export interface SeededBundle {
  readonly bundle: Loadable;
  readonly seed?: () => Uint8Array;
}

export function startSlot(entry: URL, bundles: Iterable<SeededBundle>, events: SlotEvents): Slot {
  const shared = new SharedArrayBuffer(4);
  const progress = new Int32Array(shared);
  const worker = new Worker(entry, { workerData: { progress: shared } });
  // Prepares of one key are answered in the order they were sent.
  const waiting = new Map<string, { resolve: () => void; reject: (err: Error) => void }[]>();
  const post = (message: ToWorker) => worker.postMessage(message);

  const slot: Slot = {
    worker,
    ready: false,
    running: undefined,
    position: () => Atomics.load(progress, 0),
    prepare(bundle, seed) {
      return new Promise((resolve, reject) => {
        waiting.set(bundle.key, [...(waiting.get(bundle.key) ?? []), { resolve, reject }]);
        post({
          type: 'prepare',
          key: bundle.key,
          module: bundle.wasm.module,
          entrypoints: bundle.wasm.entrypoints,
          hostBuiltins: bundle.wasm.hostBuiltins,
          routed: bundle.wasm.routed,
          data: bundle.data,
          limits: bundle.limits,
          ...(seed ? { seed } : {}),
        });
      });
    },
    updateData: (key, changes) => post({ type: 'data', key, changes }),
    release: (keys) => post({ type: 'release', keys }),
    start(id, task) {
      Atomics.store(progress, 0, 0);
      slot.running = { id, task, position: 0, since: Date.now(), done: new Map() };
      post({ type: 'evaluate', id, input: task.input, jobs: task.jobs.map((j) => ({ key: j.bundle.key, entrypoints: j.entrypoints })), eager: task.retry === true, ...(task.nowNs === undefined ? {} : { nowNs: task.nowNs }) });
    },
    stop() {
      for (const w of [...waiting.values()].flat()) w.reject(new Error('worker stopped'));
      waiting.clear();
      return worker.terminate();
    },
  };

  worker.on('message', (message: FromWorker) => {
    if (message.type === 'prepared') {
      const waiter = waiting.get(message.key)?.shift();
      if (waiting.get(message.key)?.length === 0) waiting.delete(message.key);
      if (message.error) waiter?.reject(new Error(message.error));
      else waiter?.resolve();
      return;
    }
    const running = slot.running;
    if (!running || running.id !== message.id) return;
    if (message.type === 'partial') {
      message.outcomes.forEach((o, i) => running.done.set(message.from + i, o));
      return;
    }
    slot.running = undefined;
    events.onResult(slot, running, message.outcomes);
  });
  worker.on('error', (err) => events.onCrash(slot, err));
  // Messages are handled in order, so evaluations posted after these prepares see the bundles;
  // readiness only says the thread is up and has them, so no review waits for a boot. Each
  // seed is read now, in the same turn as its prepare is posted: a data change the pool posts
  // to this slot from now on comes after it, one made before is in it.
  void Promise.allSettled([...bundles].map((b) => slot.prepare(b.bundle, b.seed?.()))).then(() => {
    slot.ready = true;
    events.onReady(slot);
  });
  return slot;
}
