// Messages between the worker pool and its evaluation workers.
import type { EvalOutcome, EvaluatorLimits } from './evaluator.js';

export type ToWorker =
  | {
      readonly type: 'prepare';
      readonly key: string;
      readonly module: WebAssembly.Module;
      readonly entrypoints: Readonly<Record<string, number>>;
      readonly hostBuiltins: readonly string[];
      readonly data: Uint8Array;
      readonly limits: EvaluatorLimits;
    }
  | { readonly type: 'release'; readonly keys: readonly string[] }
  | { readonly type: 'evaluate'; readonly id: number; readonly input: Uint8Array; readonly jobs: readonly { readonly key: string; readonly entrypoints: readonly number[] }[] };

export type FromWorker =
  | { readonly type: 'prepared'; readonly key: string; readonly error?: string }
  | { readonly type: 'result'; readonly id: number; readonly outcomes: EvalOutcome[][] };

/**
 * Shared progress slot: before each entrypoint the worker stores its position in the job's
 * flattened entrypoint list (+1), so after a timeout the pool knows which policy hung.
 */
export const PROGRESS_SLOTS = 1;
