// Messages between the bundle loader and a load worker (one load at a time per worker).
import type { EvaluatorLimits } from '../engine/evaluator.js';
import type { ErrorCode } from '../errors/errors.js';
import type { LoadedPolicy, LoadedTemplate } from './bundle-checks.js';
import type { BundleManifest } from './manifest.js';
import type { VerificationKey } from './signature.js';

export interface LoadRequest {
  readonly bytes: Uint8Array;
  /** Limits of the load's instance (the memory budget's WASM share). */
  readonly limits: EvaluatorLimits;
  /** The memory budget's JavaScript share: largest JSON file parsed. */
  readonly maxJsonBytes: number;
  readonly verification?: VerificationKey;
}

export type LoadReply =
  /** Sent once the worker's code is loaded and it has the request: the time budget starts. */
  | { readonly type: 'started' }
  | {
      readonly type: 'loaded';
      readonly manifest: BundleManifest;
      readonly module: WebAssembly.Module;
      readonly entrypoints: Readonly<Record<string, number>>;
      readonly hostBuiltins: readonly string[];
      readonly routed: Readonly<Record<number, string>>;
      readonly data: Uint8Array;
      readonly policies: readonly LoadedPolicy[];
      readonly templates: readonly LoadedTemplate[];
    }
  /** A check failed: the error as code and message (errors do not cross threads as classes). */
  | { readonly type: 'refused'; readonly code: ErrorCode; readonly message: string; readonly details?: Record<string, unknown> };
