// Where policy WASM runs. The review layer asks a backend to evaluate, per bundle, a list
// of entrypoints against one input, within a deadline; the backend decides whether that
// happens on this thread or in a pool of worker threads.
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
  /** Makes a bundle ready to evaluate; resolves when every executor has it. */
  prepare(bundle: Loadable): Promise<void>;
  /** Drops bundles that are no longer in any active set. */
  retain(keys: ReadonlySet<string>): void;
  /** One outcome list per job, in order. Never rejects: failures are outcomes. */
  evaluate(input: Uint8Array, jobs: readonly EvalJob[], deadline: number): Promise<EvalOutcome[][]>;
  close(): Promise<void>;
}

/** Evaluates on the calling thread (the CLI, and `--workers 0`). No deadline can interrupt WASM here. */
export function inProcessBackend(): EvalBackend {
  return {
    prepare: async () => undefined,
    retain: () => undefined,
    evaluate: async (input, jobs) => jobs.map((job) => job.bundle.evaluator.evaluate(input, job.entrypoints)),
    close: async () => undefined,
  };
}
