// The bundle loader bouncer serve uses: every step that reads or runs a bundle's content
// (untar, signature, manifest, data, compile, instantiate with the module's start
// function, the self-check probe) happens in a worker thread with a time and a
// memory budget, so a bundle that never finishes or grows without bound is refused with a
// code instead of freezing the event loop (reviews, /healthz, /readyz). The worker is
// terminated when the time budget runs out; termination interrupts running WASM.
//
// Budgets: the time budget starts once the worker has booted and holds the bundle. The
// memory budget (maxMemoryMb) has two shares, both enforced before they can be exceeded:
// WASM linear memory of the load's instances is created with a maximum of maxMemoryMb (a module
// must import its memory, see compileWasm; its allocator failing is BUNDLE_OVER_BUDGET),
// and JSON files parsed in JavaScript (data.json, .manifest, .signatures.json) may be at
// most maxMemoryMb / 8 each, since a parsed value costs up to ~8-16 times its text. The
// worker's V8 heap is deliberately not capped with resourceLimits: on Node 20 a worker
// reaching that cap can abort the whole process during its teardown ("FATAL ERROR: Reached
// heap limit" from ~IsolateData, reproduced with a 16 MB data.json of empty arrays), which
// would turn a bad bundle into a crash at every restart.
//
// On success the compiled module comes back to this thread (a WebAssembly.Module crosses
// threads without recompiling). The instance on this thread (`evaluator`, used only by the
// in-process backend, --workers 0) is created on first use, so with evaluation workers the
// event loop never instantiates a bundle.
import { Worker } from 'node:worker_threads';
import { createEvaluator, DEFAULT_LIMITS, type Evaluator, type EvaluatorLimits } from '../engine/evaluator.js';
import { workerEntry } from '../engine/worker-entry.js';
import { BouncerError, describeThrown } from '../errors/errors.js';
import { assembleBundle, bundleDigest, type LoadedBundle } from './bundle.js';
import type { LoadReply, LoadRequest } from './load-protocol.js';
import { createBundleVerifier, type VerificationKey } from './signature.js';
import { checkExceptionHorizon } from './policy-exception.js';

/** Loads and checks one bundle; the same shape whatever does the loading. */
export type BundleLoad = (name: string, bytes: Uint8Array) => Promise<LoadedBundle>;

export interface BundleLoaderOptions {
  /** Longest one load may run, ms (default 10 s); beyond it the bundle is refused with BUNDLE_LOAD_TIMEOUT. */
  readonly timeoutMs?: number;
  /**
   * Memory budget of one load, MiB (default: the WASM memory bound of `limits`, 256 MiB by
   * default): the load's WASM memory, and an eighth of it per JSON file parsed in JavaScript.
   * Beyond it the bundle is refused with BUNDLE_OVER_BUDGET.
   */
  readonly maxMemoryMb?: number;
  /** Evaluation limits (WASM memory bound) for the self-check and the bundle's instances. */
  readonly limits?: EvaluatorLimits;
  /** When set, only bundles signed with this key load; checked before anything is compiled. */
  readonly verify?: VerificationKey;
  /** Runs once the checks passed, before the bundle is returned (e.g. the evaluation backend's prepare). */
  readonly prepare?: (bundle: LoadedBundle) => Promise<void>;
  /**
   * Refuse (EXCEPTION_INVALID) a bundle with a policy exception expiring more than this many
   * days after the load, the rule `bouncer build` applies (--exception-max-days).
   */
  readonly exceptionMaxDays?: number;
  /** The worker script; defaults to load-worker next to this file. */
  readonly workerUrl?: URL;
}

export const DEFAULT_LOAD_TIMEOUT_MS = 10_000;
/** A worker that has not booted by then is stuck for reasons of ours, not the bundle's. */
const BOOT_TIMEOUT_MS = 60_000;

/** An Evaluator built on first use. */
function lazyEvaluator(build: () => Evaluator): Evaluator {
  let instance: Evaluator | undefined;
  const get = () => (instance ??= build());
  return {
    evaluate: (input, entrypoints, onStart, nowNs) => get().evaluate(input, entrypoints, onStart, nowNs),
    memoryBytes: () => instance?.memoryBytes() ?? 0,
    applyData: (changes) => get().applyData(changes),
    dataStats: () => get().dataStats(),
  };
}

/**
 * Load workers: one that answered (a bundle loaded or refused by a check) has run its load
 * to the end and is kept for the next load, which then skips the worker's boot (~0.5 s of
 * module imports on a busy 2-core machine); one terminated for its budget, crashed or exited
 * is never reused. At most one idle worker is kept, unreferenced so it never holds the
 * process open.
 */
function workerPool(url: URL): { take(): Worker; give(worker: Worker): void } {
  let idle: Worker | undefined;
  return {
    take() {
      const reused = idle;
      idle = undefined;
      if (reused) return reused;
      const worker = new Worker(url);
      // An idle worker that dies is forgotten (and its error, with no load listening, is not fatal).
      worker.on('exit', () => idle === worker && (idle = undefined));
      worker.on('error', () => undefined);
      return worker;
    },
    give(worker) {
      if (idle) void worker.terminate();
      else {
        worker.unref();
        idle = worker;
      }
    },
  };
}

/** Runs one load in a worker; resolves with its reply, or rejects with a budget error. */
function runInWorker(
  workers: ReturnType<typeof workerPool>,
  request: LoadRequest,
  timeoutMs: number,
): Promise<Extract<LoadReply, { type: 'loaded' }>> {
  return new Promise((resolve, reject) => {
    const worker = workers.take();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (answered: boolean, outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (answered) workers.give(worker);
      else void worker.terminate();
      outcome();
    };
    const arm = (ms: number, message: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false, () => reject(new BouncerError('BUNDLE_LOAD_TIMEOUT', message, { details: { timeoutMs } }))), ms);
    };
    const onMessage = (reply: LoadReply) => {
      if (reply.type === 'started') arm(timeoutMs, `loading the bundle ran past its ${timeoutMs} ms budget (compile, instantiate, data and self-check)`);
      else if (reply.type === 'loaded') finish(true, () => resolve(reply));
      else finish(true, () => reject(new BouncerError(reply.code, reply.message, reply.details ? { details: reply.details } : {})));
    };
    const onError = (err: Error) => finish(false, () => reject(new BouncerError('INTERNAL', `the bundle loader failed: ${describeThrown(err)}`, { cause: err })));
    const onExit = (code: number) => finish(false, () => reject(new BouncerError('INTERNAL', `the bundle loader exited (code ${code}) without an answer`)));
    arm(BOOT_TIMEOUT_MS, `the bundle loader did not start within ${BOOT_TIMEOUT_MS} ms`);
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(request);
  });
}

/**
 * A loader with a time and memory budget per load. Throws CONFIG_INVALID at once when the
 * verification key is unusable; each load rejects with a BouncerError naming the failed check.
 */
export function createBundleLoader(options: BundleLoaderOptions = {}): BundleLoad {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const maxMemoryMb = options.maxMemoryMb ?? limits.maxMemoryPages / 16;
  // 16 pages of 64 KiB per MiB.
  const loadLimits: EvaluatorLimits = { maxMemoryPages: Math.max(16, Math.min(limits.maxMemoryPages, Math.floor(maxMemoryMb * 16))) };
  const maxJsonBytes = Math.floor((maxMemoryMb * 1024 * 1024) / 8);
  // The key is used in each worker; building a verifier here refuses a bad key at startup.
  if (options.verify) createBundleVerifier(options.verify);
  const workers = workerPool(options.workerUrl ?? workerEntry(new URL('./load-worker.js', import.meta.url)));
  return async (name, bytes) => {
    const request: LoadRequest = { bytes: Uint8Array.from(bytes), limits: loadLimits, maxJsonBytes, ...(options.verify ? { verification: options.verify } : {}) };
    const loaded = await runInWorker(workers, request, timeoutMs);
    if (options.exceptionMaxDays !== undefined) checkExceptionHorizon(loaded.manifest.exceptions, Date.now(), options.exceptionMaxDays, 'EXCEPTION_INVALID');
    const wasm = { module: loaded.module, entrypoints: loaded.entrypoints, hostBuiltins: loaded.hostBuiltins, routed: loaded.routed };
    const policies = loaded.policies.map((p) => Object.freeze({ ...p }));
    const templates = loaded.templates.map((t) => Object.freeze({ ...t }));
    const bundle = assembleBundle({
      name,
      digest: bundleDigest(bytes),
      manifest: loaded.manifest,
      wasm,
      data: loaded.data,
      limits,
      policies,
      templates,
      evaluator: lazyEvaluator(() => createEvaluator(wasm, loaded.data, limits)),
    });
    await options.prepare?.(bundle);
    return bundle;
  };
}
