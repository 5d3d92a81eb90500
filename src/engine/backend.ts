// Where policy WASM runs. The review layer asks a backend to evaluate, per bundle, a list
// of entrypoints against one input, within a deadline; the backend decides whether that
// happens on this thread or in a pool of worker threads.
import type { DataChange } from './data-change.js';
import type { EvalOutcome, Evaluator, EvaluatorLimits } from './evaluator.js';
import type { WasmModule } from './wasm-module.js';

/** A bundle's compiled policies, as a backend needs them. */
export interface Loadable {
  /** Identity of the compiled bundle (its digest). */
  readonly key: string;
  readonly wasm: WasmModule;
  readonly data: Uint8Array;
  readonly limits: EvaluatorLimits;
  /** An instance on this thread (used by the in-process backend and the self-check). */
  readonly evaluator: Evaluator;
}

export interface EvalJob {
  readonly bundle: Loadable;
  readonly entrypoints: readonly number[];
}

export interface EvalBackend {
  /**
   * Makes a bundle ready to evaluate; resolves when every executor has it. `seed` gives the
   * bundle's replicated data as it is now (typically one put of ['inventory']); it is called
   * again whenever an executor boots later (a worker replaced, a spare started), so none
   * serves without the data. A change passed to updateData after a seed was read reaches
   * that executor after its seed; one made before must be in the seed.
   */
  prepare(bundle: Loadable, seed?: () => readonly DataChange[]): Promise<void>;
  /**
   * Changes a prepared bundle's data on every executor that has it, in order with the
   * evaluations around it (a bundle not prepared, or no longer retained, is ignored).
   */
  updateData(key: string, changes: readonly DataChange[]): void;
  /** Drops bundles that are no longer in any active set. */
  retain(keys: ReadonlySet<string>): void;
  /**
   * One outcome list per job, in order. Never rejects: failures are outcomes. `nowNs` pins
   * time.now_ns for the whole evaluation (a recorded review replayed, or one being recorded).
   */
  evaluate(input: Uint8Array, jobs: readonly EvalJob[], deadline: number, nowNs?: bigint): Promise<EvalOutcome[][]>;
  close(): Promise<void>;
}

/** Evaluates on the calling thread (the CLI, and `--workers 0`). No deadline can interrupt WASM here. */
export function inProcessBackend(): EvalBackend {
  const prepared = new Map<string, Loadable>();
  return {
    prepare: async (bundle, seed) => {
      // The seed goes to the bundle's own evaluator once: re-preparing a bundle this backend has does not reseed it.
      if (!prepared.has(bundle.key) && seed) bundle.evaluator.applyData(seed());
      prepared.set(bundle.key, bundle);
    },
    updateData: (key, changes) => {
      if (changes.length > 0) prepared.get(key)?.evaluator.applyData(changes);
    },
    retain: (keys) => {
      for (const key of [...prepared.keys()]) if (!keys.has(key)) prepared.delete(key);
    },
    evaluate: async (input, jobs, _deadline, nowNs) => jobs.map((job) => job.bundle.evaluator.evaluate(input, job.entrypoints, undefined, nowNs)),
    close: async () => undefined,
  };
}
