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
// module before the next entrypoint runs.
import { loadPolicySync, type LoadedPolicy } from './sdk.js';
import { BouncerError, describeThrown, type ErrorCode } from '../errors/errors.js';
import type { WasmModule } from './wasm-module.js';

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
   * order. `onStart` is called before each entrypoint with the outcomes so far.
   */
  evaluate(input: Uint8Array, entrypoints: readonly number[], onStart?: (index: number, done: readonly EvalOutcome[]) => void): EvalOutcome[];
  /** Bytes of linear memory currently held (it grows on demand and never shrinks). */
  memoryBytes(): number;
}

interface AbiExports {
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(addr: number): void;
  opa_malloc(size: number): number;
  opa_json_parse(addr: number, len: number): number;
  opa_json_dump(addr: number): number;
  opa_eval_ctx_new(): number;
  opa_eval_ctx_set_input(ctx: number, addr: number): void;
  opa_eval_ctx_set_data(ctx: number, addr: number): void;
  opa_eval_ctx_set_entrypoint(ctx: number, id: number): void;
  opa_eval_ctx_get_result(ctx: number): number;
  eval(ctx: number): number;
}

const decoder = new TextDecoder();

function classify(thrown: unknown): EngineFailure {
  const message = describeThrown(thrown);
  if (message.startsWith('not implemented')) return { class: 'builtin', message };
  if (thrown instanceof RangeError || /out of memory|malloc|memory access out of bounds/i.test(message)) return { class: 'memory', message };
  return { class: 'runtime', message };
}

class Instance {
  readonly policy: LoadedPolicy;
  readonly abi: AbiExports;

  constructor(mod: WasmModule, data: Uint8Array, limits: EvaluatorLimits) {
    this.policy = loadPolicySync(mod.module, { initial: 16, maximum: limits.maxMemoryPages });
    const wasm = this.policy.wasmInstance;
    this.abi = ('instance' in wasm ? wasm.instance : wasm).exports as unknown as AbiExports;
    const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    this.policy.setData(copy);
  }

  /** Copies and parses the input; returns its address, or 0 when it is not JSON. */
  loadInput(input: Uint8Array): number {
    this.abi.opa_heap_ptr_set(this.policy.dataHeapPtr as number);
    const raw = this.abi.opa_malloc(input.byteLength);
    new Uint8Array(this.policy.mem.buffer).set(input, raw);
    return this.abi.opa_json_parse(raw, input.byteLength);
  }

  run(inputAddr: number, heap: number, entrypoint: number): unknown {
    const abi = this.abi;
    abi.opa_heap_ptr_set(heap);
    const ctx = abi.opa_eval_ctx_new();
    abi.opa_eval_ctx_set_input(ctx, inputAddr);
    abi.opa_eval_ctx_set_data(ctx, this.policy.dataAddr);
    abi.opa_eval_ctx_set_entrypoint(ctx, entrypoint);
    abi.eval(ctx);
    const text = this.dumpText(abi.opa_json_dump(abi.opa_eval_ctx_get_result(ctx)));
    return JSON.parse(text) as unknown;
  }

  private dumpText(addr: number): string {
    const bytes = new Uint8Array(this.policy.mem.buffer);
    const end = bytes.indexOf(0, addr);
    return decoder.decode(bytes.subarray(addr, end < 0 ? bytes.length : end));
  }
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

  return {
    evaluate(input, entrypoints, onStart) {
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
          instance = build();
          const failure: EngineFailure = { class: 'input', message: `the policy engine cannot parse the input: ${describeThrown(thrown)}` };
          return [...outcomes, ...entrypoints.slice(next).map(() => ({ ok: false as const, failure }))];
        }
        if (inputAddr === 0) {
          const failure: EngineFailure = { class: 'input', message: 'the policy engine cannot parse the input: it is not JSON' };
          return [...outcomes, ...entrypoints.slice(next).map(() => ({ ok: false as const, failure }))];
        }
        const heap = instance.abi.opa_heap_ptr_get();
        for (; next < entrypoints.length; next++) {
          try {
            onStart?.(next, outcomes);
            outcomes.push(resultValue(instance.run(inputAddr, heap, entrypoints[next] as number)));
          } catch (thrown) {
            outcomes.push({ ok: false, failure: classify(thrown) });
            instance = build();
            next++;
            break;
          }
        }
      }
      return outcomes;
    },
    memoryBytes: () => instance.policy.mem.buffer.byteLength,
  };
}
