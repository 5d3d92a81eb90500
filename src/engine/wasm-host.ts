// The host side of OPA's WASM ABI: instantiates a policy.wasm with bouncer's imports and
// dispatches the builtins the module calls back for. It replaces the SDK's loader
// (loadPolicySync / LoadedPolicy, same shape) because the SDK passes builtin arguments
// through opa_json_dump + JSON.parse, which loses what Go OPA's builtins see: sets
// arrive as arrays (so `sprintf("%v", [s])` cannot print `{"a"}`) and integers beyond
// 2^53 are rounded. Here the engine's builtins (host-builtins.ts) get their arguments
// from opa_value_dump as exact Rego values; the SDK's remaining JS builtins (yaml.*,
// and the unused json.is_valid, regex.split) still get JSON, as the SDK gives it.
// https://www.openpolicyagent.org/docs/wasm#imports
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BuiltinError, hostBuiltins, type BuiltinContext, type HostBuiltin } from './host-builtins.js';
import { parseRegoValue, wasmText } from './rego-value.js';
import type { DataChange } from './data-change.js';
import { parseJson } from '../json/parse-json.js';

interface HostExports {
  opa_malloc(size: number): number;
  opa_free(addr: number): void;
  opa_json_parse(addr: number, len: number): number;
  opa_value_parse(addr: number, len: number): number;
  opa_json_dump(addr: number): number;
  opa_value_dump(addr: number): number;
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(addr: number): void;
  opa_value_add_path(base: number, path: number, value: number): number;
  opa_value_remove_path(base: number, path: number): number;
  builtins(): number;
  entrypoints(): number;
  eval(ctx: number): number;
  opa_eval?(...args: number[]): number;
  opa_wasm_abi_version?: WebAssembly.Global | number;
}

type SdkBuiltin = (...args: unknown[]) => unknown;

const encoder = new TextEncoder();
/** OPA's malloc block header (wasm/src/malloc.c struct heap_block: size, prev, next; wasm32). */
const HEAP_BLOCK_HEADER = 12;
const PAGE = 65536;
/** Parsed size of JSON text in OPA's heap, at most, as measured on Kubernetes objects (~4.5x). */
const PARSE_EXPANSION = 6;
const decoder = new TextDecoder();

/** The SDK's JS builtins (CommonJS, reached by path: the package's export map hides it). */
function sdkBuiltins(): Readonly<Record<string, SdkBuiltin>> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@open-policy-agent/opa-wasm');
  return require(join(dirname(entry), 'builtins', 'index.js')) as Record<string, SdkBuiltin>;
}

/**
 * A wall clock read once per evaluation, as Go OPA reads it once per query (BuiltinContext.Time),
 * or a time pinned for the next evaluations (a review's recorded time, replayed).
 */
function evaluationClock(): { reset(): void; pin(ns: bigint | undefined): void; nowNs(): bigint } {
  let now: bigint | undefined;
  let pinned: bigint | undefined;
  return {
    reset: () => {
      now = pinned;
    },
    pin: (ns) => {
      pinned = ns;
    },
    nowNs: () => (now ??= BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n),
  };
}

/** A policy instance with its data loaded; the fields the engine uses of the SDK's LoadedPolicy. */
export class LoadedPolicy {
  /** Typed as the SDK types it, so code written against the SDK's LoadedPolicy reads it unchanged. */
  readonly wasmInstance: WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource;
  readonly mem: WebAssembly.Memory;
  readonly entrypoints: Record<string, number>;
  dataAddr: number;
  readonly baseHeapPtr: number;
  dataHeapPtr: number;
  /** How many changes the last applyChanges applied before it returned or threw. */
  lastApplied = 0;
  private readonly exports: HostExports;

  /** The memory's maximum size (its descriptor's maximum, else wasm32's 4 GiB). */
  private readonly maxBytes: number;
  private readonly pinClock: (ns: bigint | undefined) => void;

  constructor(instance: WebAssembly.Instance, exports: HostExports, mem: WebAssembly.Memory, maxPages = 65536, pinClock: (ns: bigint | undefined) => void = () => undefined) {
    this.maxBytes = maxPages * PAGE;
    this.pinClock = pinClock;
    this.wasmInstance = instance;
    this.exports = exports;
    this.mem = mem;
    this.dataAddr = this.load(encoder.encode('{}'), 'json');
    this.baseHeapPtr = exports.opa_heap_ptr_get();
    this.dataHeapPtr = this.baseHeapPtr;
    this.entrypoints = parseJson(readText(mem, exports.opa_json_dump(exports.entrypoints()))) as Record<string, number>;
  }

  /**
   * The time.now_ns of the following evaluations: `ns` (epoch nanoseconds) for every one of
   * them, or undefined for the wall clock read once per evaluation (the default).
   */
  pinTime(ns: bigint | undefined): void {
    this.pinClock(ns);
  }

  /** Loads `data` (JSON text) as the policy's data document; throws when it is not JSON. */
  setData(data: ArrayBuffer): void {
    this.exports.opa_heap_ptr_set(this.baseHeapPtr);
    this.reserve(data.byteLength * (1 + PARSE_EXPANSION));
    this.dataAddr = this.load(new Uint8Array(data), 'json');
    this.dataHeapPtr = this.exports.opa_heap_ptr_get();
  }

  /**
   * Applies `changes` in place to the data document, in order, with the heap at
   * `dataHeapPtr` (evaluation resets the heap there, so whatever is allocated below it is the
   * data region) and moves `dataHeapPtr` past what they allocated. OPA's add_path creates
   * missing parent objects and frees a replaced value, remove_path frees the removed one, but
   * both free shallowly (a container's own blocks, not its members) and every free lands on
   * free lists that the next opa_heap_ptr_set empties: what a change replaces or removes stays
   * in the region as garbage until the document is re-loaded (see evaluator.ts's compaction).
   * The path array is not freed: add_path keeps its elements as the new keys.
   * Returns the index of the first change OPA refused (a value that is not JSON, a path
   * through a non-object), the ones before it applied; -1 when all applied. Throws what the
   * module throws (a trap: out of memory) — the instance is then unusable.
   */
  applyChanges(changes: readonly DataChange[]): number {
    const abi = this.exports;
    abi.opa_heap_ptr_set(this.dataHeapPtr);
    this.lastApplied = 0;
    this.reserve(changes.reduce((n, c) => n + 64 + 8 * c.path.length + (c.op === 'put' ? c.value.byteLength * (1 + PARSE_EXPANSION) : 0), 0));
    try {
      for (let i = 0; i < changes.length; i++) {
        const change = changes[i] as DataChange;
        const path = this.load(encoder.encode(JSON.stringify(change.path)), 'json');
        let errc: number;
        if (change.op === 'put') {
          const raw = abi.opa_malloc(change.value.byteLength);
          new Uint8Array(this.mem.buffer).set(change.value, raw);
          const value = abi.opa_json_parse(raw, change.value.byteLength);
          abi.opa_free(raw);
          errc = value === 0 ? -1 : abi.opa_value_add_path(this.dataAddr, path, value);
        } else {
          errc = abi.opa_value_remove_path(this.dataAddr, path);
        }
        if (errc !== 0) return i;
        this.lastApplied = i + 1;
      }
      return -1;
    } finally {
      this.dataHeapPtr = abi.opa_heap_ptr_get();
    }
  }

  /** The data document as JSON text (a copy, out of WASM memory). */
  dumpData(): Uint8Array {
    const abi = this.exports;
    abi.opa_heap_ptr_set(this.dataHeapPtr);
    // The text is smaller than the parsed values it comes from (see PARSE_EXPANSION).
    this.reserve((this.dataHeapPtr - this.baseHeapPtr) / 2);
    const addr = abi.opa_json_dump(this.dataAddr);
    const bytes = new Uint8Array(this.mem.buffer);
    const end = bytes.indexOf(0, addr);
    const text = bytes.slice(addr, end);
    abi.opa_heap_ptr_set(this.dataHeapPtr);
    return text;
  }

  /**
   * Takes over `from`'s data region byte for byte: an instance of the same module, built the
   * same way, lays out the same heap below `baseHeapPtr`, so the region's pointers stay valid
   * when copied to the same addresses. Used after a trap (evaluation allocates only above the
   * region and never writes into it), where re-parsing would need memory a trapped instance may
   * not have. The region is claimed with one opa_malloc so the allocator grows the memory and
   * knows its new top. Returns false (nothing changed) when the layouts differ.
   */
  adoptData(from: LoadedPolicy): boolean {
    if (from.baseHeapPtr !== this.baseHeapPtr || this.dataHeapPtr !== this.baseHeapPtr) return false;
    const size = from.dataHeapPtr - from.baseHeapPtr;
    if (size <= HEAP_BLOCK_HEADER) return false;
    const abi = this.exports;
    abi.opa_heap_ptr_set(this.baseHeapPtr);
    const block = abi.opa_malloc(size - HEAP_BLOCK_HEADER);
    if (block !== this.baseHeapPtr + HEAP_BLOCK_HEADER || abi.opa_heap_ptr_get() !== from.dataHeapPtr) {
      abi.opa_heap_ptr_set(this.baseHeapPtr);
      return false;
    }
    new Uint8Array(this.mem.buffer).set(new Uint8Array(from.mem.buffer, from.baseHeapPtr, size), this.baseHeapPtr);
    abi.opa_heap_ptr_set(from.dataHeapPtr);
    this.dataAddr = from.dataAddr;
    this.dataHeapPtr = from.dataHeapPtr;
    return true;
  }

  /**
   * Makes room for `bytes` above the heap pointer in one memory.grow, within the maximum.
   * OPA's malloc grows the memory by the block it needs, a page at a time for small blocks,
   * and V8 copies the whole memory on each grow: loading 100k objects (~440 MiB) that way
   * took minutes. One large block malloc'd grows the memory (and malloc's own idea of its
   * top) by its size in one step; the heap pointer is then set back below it. The room is
   * at least a quarter of the memory, so growth is geometric. The heap pointer must be where
   * it was set last (the free lists are empty).
   */
  reserve(bytes: number): void {
    const abi = this.exports;
    const size = this.mem.buffer.byteLength;
    const headroom = size - abi.opa_heap_ptr_get();
    if (headroom >= bytes) return;
    const grow = Math.min(Math.max(bytes - headroom, size / 4), this.maxBytes - size - 2 * PAGE);
    if (grow <= PAGE) return;
    const ptr = abi.opa_heap_ptr_get();
    abi.opa_malloc(Math.floor(grow));
    // Back to where it was (OPA 1.x's opa_free does not lower the heap pointer; this also
    // empties the free lists, which were empty): only malloc's top stays raised.
    abi.opa_heap_ptr_set(ptr);
  }

  private load(bytes: Uint8Array, syntax: 'json' | 'value'): number {
    return loadText(this.exports, this.mem, bytes, syntax);
  }
}

function readText(mem: WebAssembly.Memory, addr: number): string {
  const bytes = new Uint8Array(mem.buffer);
  const end = bytes.indexOf(0, addr);
  return decoder.decode(bytes.subarray(addr, end < 0 ? bytes.length : end));
}

function loadText(exports: HostExports, mem: WebAssembly.Memory, bytes: Uint8Array, syntax: 'json' | 'value'): number {
  const raw = exports.opa_malloc(bytes.byteLength);
  new Uint8Array(mem.buffer).set(bytes, raw);
  const addr = syntax === 'json' ? exports.opa_json_parse(raw, bytes.byteLength) : exports.opa_value_parse(raw, bytes.byteLength);
  if (addr === 0) throw new Error(`failed to parse ${syntax === 'json' ? 'json' : 'value'} text`);
  return addr;
}

/**
 * Instantiates a compiled policy module against a new memory. Builtins: the engine's
 * own table first (exact Rego values; a BuiltinError makes the call undefined, as OPA
 * does for builtin errors unless strict-builtin-errors is set, which Gatekeeper does not
 * set), then the SDK's JS table; any other builtin throws "not implemented" when called.
 */
export function loadPolicySync(
  module: WebAssembly.Module,
  memoryDescriptor: Partial<WebAssembly.MemoryDescriptor> = {},
  routed: Readonly<Record<number, string>> = {},
): LoadedPolicy {
  const mem = new WebAssembly.Memory({ ...memoryDescriptor, initial: memoryDescriptor.initial ?? 5 });
  const own = hostBuiltins();
  const sdk = sdkBuiltins();
  const clock = evaluationClock();
  const context: BuiltinContext = { nowNs: clock.nowNs };
  // Filled in once the instance exists; builtins are only called while it evaluates.
  const bound: { exports?: HostExports; names: Record<number, string> } = { names: {} };

  const call = (id: number, addrs: number[]): number => {
    const abi = bound.exports as HostExports;
    const name = bound.names[id] ?? `#${id}`;
    const builtin: HostBuiltin | undefined = Object.hasOwn(own, name) ? own[name] : undefined;
    if (builtin) {
      const args = addrs.map((a) => {
        const raw = abi.opa_value_dump(a);
        const text = readText(mem, raw);
        abi.opa_free(raw);
        return parseRegoValue(text);
      });
      let result;
      try {
        result = builtin(args, context);
      } catch (err) {
        if (err instanceof BuiltinError) return 0;
        throw err;
      }
      return result === undefined ? 0 : loadText(abi, mem, encoder.encode(wasmText(result)), 'value');
    }
    const fallback = Object.hasOwn(sdk, name) ? sdk[name] : undefined;
    if (fallback) {
      const args = addrs.map((a) => parseJson(readText(mem, abi.opa_json_dump(a))) as unknown);
      const result = fallback(...args);
      return result === undefined ? 0 : loadText(abi, mem, encoder.encode(JSON.stringify(result)), 'json');
    }
    throw new Error(`not implemented: built-in function ${id}: ${name}`);
  };

  const instance = new WebAssembly.Instance(module, {
    env: {
      memory: mem,
      opa_abort: (addr: number) => {
        throw new Error(readText(mem, addr));
      },
      opa_println: (addr: number) => {
        process.stderr.write(`${readText(mem, addr)}\n`);
      },
      opa_builtin0: (id: number) => call(id, []),
      opa_builtin1: (id: number, _ctx: number, a: number) => call(id, [a]),
      opa_builtin2: (id: number, _ctx: number, a: number, b: number) => call(id, [a, b]),
      opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => call(id, [a, b, c]),
      opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) => call(id, [a, b, c, d]),
    },
  });
  const real = instance.exports as unknown as HostExports;
  const version = real.opa_wasm_abi_version;
  const major = typeof version === 'number' ? version : (version?.value as number | undefined);
  if (major !== 1) throw new Error(`unsupported ABI version ${String(major)}`);
  // The engine drives evaluation through these exports; each `eval` is one query, so the
  // clock behind time.now_ns is reset there.
  const facade: HostExports = {
    ...real,
    eval: (ctx: number) => {
      clock.reset();
      return real.eval(ctx);
    },
  };
  bound.exports = facade;
  const declared = parseJson(readText(mem, real.opa_json_dump(real.builtins()))) as Record<string, number>;
  bound.names = { ...Object.fromEntries(Object.entries(declared).map(([name, id]) => [id, name])), ...routed };
  return new LoadedPolicy({ exports: facade } as unknown as WebAssembly.Instance, facade, mem, memoryDescriptor.maximum, clock.pin);
}
