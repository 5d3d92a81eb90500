// One instantiated policy module with its data document: the ABI calls evaluation makes
// (input in, one entrypoint run, result out). Data changes go through `policy` (wasm-host.ts).
import { loadPolicySync, type LoadedPolicy } from './sdk.js';
import type { EvaluatorLimits } from './evaluator.js';
import type { WasmModule } from './wasm-module.js';
import { parseJson } from '../json/parse-json.js';

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

export class PolicyInstance {
  readonly policy: LoadedPolicy;
  readonly abi: AbiExports;

  /** `data` null: the data document stays empty (for adoptData). */
  constructor(mod: WasmModule, data: Uint8Array | null, limits: EvaluatorLimits) {
    this.policy = loadPolicySync(mod.module, { initial: 16, maximum: limits.maxMemoryPages }, mod.routed);
    const wasm = this.policy.wasmInstance;
    this.abi = ('instance' in wasm ? wasm.instance : wasm).exports as unknown as AbiExports;
    if (data === null) return;
    const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    this.policy.setData(copy);
  }

  region(): number {
    return this.policy.dataHeapPtr - this.policy.baseHeapPtr;
  }

  /** Copies and parses the input; returns its address, or 0 when it is not JSON. */
  loadInput(input: Uint8Array): number {
    this.abi.opa_heap_ptr_set(this.policy.dataHeapPtr as number);
    // Room for the input and what evaluating against it allocates, grown in one step (a big
    // data document makes each of malloc's page-sized grows a copy of all of it).
    this.policy.reserve(input.byteLength * 8 + 1024 * 1024);
    const raw = this.abi.opa_malloc(input.byteLength);
    new Uint8Array(this.policy.mem.buffer).set(input, raw);
    return this.abi.opa_json_parse(raw, input.byteLength);
  }

  /** One entrypoint; `nowNs` pins time.now_ns for it (else the wall clock). */
  run(inputAddr: number, heap: number, entrypoint: number, nowNs?: bigint): unknown {
    const abi = this.abi;
    this.policy.pinTime(nowNs);
    abi.opa_heap_ptr_set(heap);
    const ctx = abi.opa_eval_ctx_new();
    abi.opa_eval_ctx_set_input(ctx, inputAddr);
    abi.opa_eval_ctx_set_data(ctx, this.policy.dataAddr);
    abi.opa_eval_ctx_set_entrypoint(ctx, entrypoint);
    abi.eval(ctx);
    const text = this.dumpText(abi.opa_json_dump(abi.opa_eval_ctx_get_result(ctx)));
    return parseJson(text) as unknown;
  }

  private dumpText(addr: number): string {
    const bytes = new Uint8Array(this.policy.mem.buffer);
    const end = bytes.indexOf(0, addr);
    return decoder.decode(bytes.subarray(addr, end < 0 ? bytes.length : end));
  }
}

