// Evaluation of many entrypoints of one policy.wasm against one input, parsing the
// input once. The SDK's `evaluate` re-parses the input for every entrypoint, which makes
// per-review cost grow with the number of policies; here the raw JSON bytes are copied
// into WASM memory and parsed once (exact int64, no JS stringify), then each entrypoint
// runs against that parsed value through the OPA WASM ABI's eval-context calls:
// https://www.openpolicyagent.org/docs/wasm#exports
//
// Isolation: a trap in one entrypoint (opa_abort, a builtin that throws, memory
// exhaustion) is reported for that entrypoint alone. A trap can leave the instance's
// shadow stack and heap inconsistent, so the instance is rebuilt from the compiled
// module before the next entrypoint runs, keeping its data document (bundle data and the
// changes applied since).
//
// Replicated data (applyData) is changed in place, and what a change replaces stays behind
// as garbage in the data region (wasm-host.ts applyChanges). The region is compacted by
// dumping the data document and loading it into a fresh instance once it has grown by half
// its size after the last load (and at least COMPACT_MIN_GROWTH), so it stays below ~1.5x
// the live data plus that margin, and each compaction's cost (a dump and a parse of the live
// data) is paid for by at least half as many bytes of changes. A change that does not fit the
// memory limit never throws: the instance is rebuilt from the bundle data alone and every
// evaluation fails (INVENTORY_OVER_BUDGET, class 'memory') until a put of a whole top-level
// document (['inventory']) fits again.
import { PolicyInstance as Instance } from './policy-instance.js';
import { BouncerError, describeThrown, type ErrorCode } from '../errors/errors.js';
import type { WasmModule } from './wasm-module.js';
import type { DataChange } from './data-change.js';

/**
 * Why an entrypoint has no value. 'input' is the one class that is not the policy's: the
 * engine could not parse the input (the review), so the review is malformed whatever the
 * policies' failure modes (evaluate-policies.ts turns it into REVIEW_NOT_JSON).
 */
export type FailureClass = 'runtime' | 'builtin' | 'memory' | 'input' | 'result' | 'timeout' | 'overload';

export interface EngineFailure {
  readonly class: FailureClass;
  readonly message: string;
  /** A stable code when the failure has its own (timeouts and policies not evaluated in time). */
  readonly code?: ErrorCode;
}

export type EvalOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly failure: EngineFailure };

export interface EvaluatorLimits {
  /** Upper bound of the instance's linear memory, in 64 KiB pages. */
  readonly maxMemoryPages: number;
}

export const DEFAULT_LIMITS: EvaluatorLimits = { maxMemoryPages: 4096 };

/** One synchronous, non-reentrant policy instance with its data loaded. */
export interface Evaluator {
  /**
   * Evaluates each entrypoint id against `input` (JSON text); one outcome per entrypoint, in
   * order. `onStart` is called before each entrypoint with the outcomes so far. `nowNs`
   * (epoch nanoseconds) is what time.now_ns returns in every one of them; without it, the
   * wall clock read once per entrypoint.
   */
  evaluate(input: Uint8Array, entrypoints: readonly number[], onStart?: (index: number, done: readonly EvalOutcome[]) => void, nowNs?: bigint): EvalOutcome[];
  /** Bytes of linear memory currently held (it grows on demand and never shrinks). */
  memoryBytes(): number;
  /**
   * Changes the data document in place, in order (see the file comment for garbage and for
   * a change that does not fit). Never throws.
   */
  applyData(changes: readonly DataChange[]): void;
  /** The data region's size, its size after the last full load, compactions so far, and the failure evaluations get, if any. */
  dataStats(): DataStats;
}

export interface DataStats {
  readonly regionBytes: number;
  readonly loadedBytes: number;
  readonly compactions: number;
  readonly failure?: EngineFailure;
}

/** Growth of the data region since its last full load below which it is never compacted. */
export const COMPACT_MIN_GROWTH = 16 * 1024 * 1024;

function classify(thrown: unknown): EngineFailure {
  const message = describeThrown(thrown);
  if (message.startsWith('not implemented')) return { class: 'builtin', message };
  if (thrown instanceof RangeError || /out of memory|malloc|memory access out of bounds/i.test(message)) return { class: 'memory', message };
  return { class: 'runtime', message };
}

/** The value of a result set `[{result: v}]`, or undefined for an undefined result `[]`. */
function resultValue(resultSet: unknown): EvalOutcome {
  if (!Array.isArray(resultSet)) return { ok: false, failure: { class: 'result', message: 'the result set is not an array' } };
  if (resultSet.length === 0) return { ok: true, value: undefined };
  const first: unknown = resultSet[0];
  if (typeof first !== 'object' || first === null || !('result' in first)) {
    return { ok: false, failure: { class: 'result', message: 'the result set has no result' } };
  }
  return { ok: true, value: first.result };
}

const failAll = (entrypoints: readonly number[], failure: EngineFailure): EvalOutcome[] => entrypoints.map(() => ({ ok: false as const, failure }));

/** Builds an evaluator; throws BUNDLE_DATA_INVALID when `data` does not load. */
export function createEvaluator(mod: WasmModule, data: Uint8Array, limits: EvaluatorLimits = DEFAULT_LIMITS): Evaluator {
  const build = (): Instance => {
    try {
      return new Instance(mod, data, limits);
    } catch (cause) {
      throw new BouncerError('BUNDLE_DATA_INVALID', `data.json does not load into the policy: ${describeThrown(cause)}`, { cause });
    }
  };
  let instance = build();
  /** The data region's size after the last full load (construction, compaction, rebuild). */
  let loaded = instance.region();
  let compactions = 0;
  /** Set while the replicated data is not in the instance: what every evaluation gets. */
  let failure: EngineFailure | undefined;
  /** Top-level keys of the data document that changes have touched since the bundle data was loaded. */
  const roots = new Set<string>();
  const maxBytes = limits.maxMemoryPages * 65536;

  /** The instance is rebuilt from the bundle data alone; evaluations fail until a whole document is put again. */
  const lose = (code: 'INVENTORY_OVER_BUDGET' | 'INVENTORY_DATA_INVALID', message: string): void => {
    instance = build();
    loaded = instance.region();
    roots.clear();
    failure = { class: code === 'INVENTORY_OVER_BUDGET' ? 'memory' : 'runtime', code, message };
  };

  /** A fresh instance with the same data document (after a trap): the region copied, or failing that re-parsed. */
  const rebuild = (): void => {
    const old = instance;
    const fresh = new Instance(mod, null, limits);
    try {
      if (fresh.policy.adoptData(old.policy)) {
        instance = fresh;
        return;
      }
    } catch {
      // Falls through to re-parsing into another fresh instance.
    }
    try {
      instance = new Instance(mod, old.policy.dumpData(), limits);
      loaded = instance.region();
    } catch (thrown) {
      lose('INVENTORY_OVER_BUDGET', `the replicated data could not be carried over a rebuild of the policy instance: ${describeThrown(thrown)}`);
    }
  };

  /** Re-loads the data document into a fresh instance, leaving the garbage behind. */
  const compact = (): void => {
    try {
      const text = instance.policy.dumpData();
      instance = new Instance(mod, text, limits);
      loaded = instance.region();
      compactions++;
    } catch (thrown) {
      lose('INVENTORY_OVER_BUDGET', `the replicated data does not fit the policy's memory limit (${limits.maxMemoryPages} pages): ${describeThrown(thrown)}`);
    }
  };

  /**
   * Where a batch can start over from the bundle data: the last whole put of a top-level
   * document when nothing else replicated is kept (every other change so far, applied or
   * earlier in the batch, is under the same key), or, the data being lost, the last whole put.
   */
  const startOver = (pending: readonly DataChange[]): number => {
    for (let i = pending.length - 1; i >= 0; i--) {
      const c = pending[i] as DataChange;
      if (c.op !== 'put' || c.path.length !== 1) continue;
      if (failure) return i;
      const root = c.path[0];
      if ([...roots].every((r) => r === root) && pending.slice(0, i).every((p) => p.path[0] === root)) return i;
    }
    return -1;
  };

  /** Applies `pending` to the instance; false when it failed (the instance lost its data; the rest was handled). */
  const run = (pending: readonly DataChange[]): boolean => {
    const policy = instance.policy;
    let refused: number;
    try {
      refused = policy.applyChanges(pending);
    } catch (thrown) {
      const at = policy.lastApplied;
      const change = pending[at] as DataChange;
      const f = classify(thrown);
      const what = `${change.op} of ${change.path.join('/')}`;
      if (f.class === 'memory') lose('INVENTORY_OVER_BUDGET', `the replicated data does not fit the policy's memory limit (${limits.maxMemoryPages} pages) at the ${what}`);
      else lose('INVENTORY_DATA_INVALID', `the ${what} could not be applied: ${f.message}`);
      apply(pending.slice(at + 1));
      return false;
    }
    for (const c of refused < 0 ? pending : pending.slice(0, refused)) roots.add(c.path[0] as string);
    if (refused >= 0) {
      const change = pending[refused] as DataChange;
      lose('INVENTORY_DATA_INVALID', `the ${change.op} of ${change.path.join('/')} was refused: ${change.op === 'put' ? 'the value is not JSON, or ' : ''}the path crosses a value that is not an object`);
      apply(pending.slice(refused + 1));
      return false;
    }
    return true;
  };

  const apply = (changes: readonly DataChange[]): void => {
    let pending = changes;
    // A whole put of the only replicated document (a seed, a reseed, the way back from a
    // lost state) goes into a fresh instance built from the bundle data: one parse, nothing
    // left behind, and what the batch changed before it is superseded.
    const over = startOver(pending);
    if (over >= 0) {
      instance = build();
      failure = undefined;
      roots.clear();
      if (!run([pending[over] as DataChange])) return;
      loaded = instance.region();
      pending = pending.slice(over + 1);
    } else if (failure) return; // only a whole document can bring the data back
    if (pending.length === 0) return;
    // Near the limit with garbage to drop: compact first rather than fail a change that would fit after.
    if (instance.policy.mem.buffer.byteLength > maxBytes * 0.75 && instance.region() > loaded) compact();
    if (!run(pending)) return;
    if (instance.region() - loaded >= Math.max(loaded / 2, COMPACT_MIN_GROWTH)) compact();
  };

  return {
    evaluate(input, entrypoints, onStart, nowNs) {
      if (failure) return failAll(entrypoints, failure);
      const outcomes: EvalOutcome[] = [];
      let next = 0;
      while (next < entrypoints.length) {
        let inputAddr: number;
        try {
          inputAddr = instance.loadInput(input);
        } catch (thrown) {
          // OPA's parser aborts on some bodies instead of returning 0 (a lone surrogate
          // escape, bad UTF-8 in a string), overflows the stack on deep nesting, and can run
          // out of memory: every one is "the engine cannot parse this input", a property of
          // the bytes and not of any policy, so it is an input failure like a 0 return.
          rebuild();
          const failure: EngineFailure = { class: 'input', message: `the policy engine cannot parse the input: ${describeThrown(thrown)}` };
          return [...outcomes, ...failAll(entrypoints.slice(next), failure)];
        }
        if (inputAddr === 0) {
          const failure: EngineFailure = { class: 'input', message: 'the policy engine cannot parse the input: it is not JSON' };
          return [...outcomes, ...failAll(entrypoints.slice(next), failure)];
        }
        const heap = instance.abi.opa_heap_ptr_get();
        for (; next < entrypoints.length; next++) {
          try {
            onStart?.(next, outcomes);
            outcomes.push(resultValue(instance.run(inputAddr, heap, entrypoints[next] as number, nowNs)));
          } catch (thrown) {
            outcomes.push({ ok: false, failure: classify(thrown) });
            rebuild();
            if (failure) return [...outcomes, ...failAll(entrypoints.slice(next + 1), failure)];
            next++;
            break;
          }
        }
      }
      return outcomes;
    },
    memoryBytes: () => instance.policy.mem.buffer.byteLength,
    applyData: apply,
    dataStats: () => ({ regionBytes: instance.region(), loadedBytes: loaded, compactions, ...(failure ? { failure } : {}) }),
  };
}
