// Messages between the worker pool and its evaluation workers.
import type { EvalOutcome, EvaluatorLimits } from './evaluator.js';

export type ToWorker =
  | {
      readonly type: 'prepare';
      readonly key: string;
      readonly module: WebAssembly.Module;
      readonly entrypoints: Readonly<Record<string, number>>;
      readonly hostBuiltins: readonly string[];
      readonly routed: Readonly<Record<number, string>>;
      readonly data: Uint8Array;
      readonly limits: EvaluatorLimits;
      /** Replicated data applied right after the instance is built (data-change-codec.ts). */
      readonly seed?: Uint8Array;
    }
  /** Changes to a prepared bundle's data, applied in order with evaluations (data-change-codec.ts). */
  | { readonly type: 'data'; readonly key: string; readonly changes: Uint8Array }
  | { readonly type: 'release'; readonly keys: readonly string[] }
  | {
      readonly type: 'evaluate';
      readonly id: number;
      readonly input: Uint8Array;
      readonly jobs: readonly { readonly key: string; readonly entrypoints: readonly number[] }[];
      /** Report every outcome as it is made (a retry: a policy of this review already hung once). */
      readonly eager?: boolean;
      /** time.now_ns for every entrypoint of the task (epoch ns). */
      readonly nowNs?: bigint;
    };

export type FromWorker =
  | { readonly type: 'prepared'; readonly key: string; readonly error?: string }
  /**
   * Outcomes of a running task so far, in its flattened entrypoint order from `from`: sent
   * only once a task has run for a while (see FLUSH_AFTER_MS), or eagerly for a retry, so
   * that when a later policy hangs and the worker is stopped, the policies already evaluated
   * keep their outcomes. A review without slow policies sends none.
   */
  | { readonly type: 'partial'; readonly id: number; readonly from: number; readonly outcomes: readonly EvalOutcome[] }
  | { readonly type: 'result'; readonly id: number; readonly outcomes: EvalOutcome[][] };

/** A task running longer than this reports its finished outcomes before each next policy. */
export const FLUSH_AFTER_MS = 5;

/**
 * Shared progress slot: before each entrypoint the worker stores its position in the job's
 * flattened entrypoint list (+1), so after a timeout the pool knows which policy hung.
 */
export const PROGRESS_SLOTS = 1;
