// A compiled policy.wasm, checked once at load: it compiles, instantiates, speaks the
// OPA WASM ABI, and every builtin it imports from the host is one the runtime implements.
import { loadPolicySync } from './sdk.js';
import { BouncerError, describeThrown } from '../errors/errors.js';
import { supportedBuiltins } from './capabilities.js';
import type { EvaluatorLimits } from './evaluator.js';
import { parseJson } from '../json/parse-json.js';
import { routeBuiltinsToHost } from './host-routed-builtins.js';

export interface WasmModule {
  readonly module: WebAssembly.Module;
  /** Entrypoint name (e.g. "bouncer/entry/x/validate") → numeric id. */
  readonly entrypoints: Readonly<Record<string, number>>;
  /** Builtins the module calls back into the host for. */
  readonly hostBuiltins: readonly string[];
  /** Builtins of OPA's library the module was rewritten to call the host for: id → name (host-routed-builtins.ts). */
  readonly routed: Readonly<Record<number, string>>;
}

interface WasmExports {
  builtins(): number;
  entrypoints(): number;
  opa_json_dump(addr: number): number;
}

/** WebAssembly.Module.imports, which the TypeScript lib this project uses does not declare. */
const moduleImports = (module: WebAssembly.Module): readonly { module: string; name: string; kind: string }[] =>
  (WebAssembly.Module as unknown as { imports(m: WebAssembly.Module): { module: string; name: string; kind: string }[] }).imports(module);

/**
 * Compiles and instantiates a policy.wasm (running its start function) and checks it.
 * The module must import its linear memory, as OPA's modules do: the memory is then the
 * one created here, bounded by `limits.maxMemoryPages` (a module defining its own memory
 * could grow it without that bound).
 */
export async function compileWasm(bytes: Uint8Array, limits?: EvaluatorLimits): Promise<WasmModule> {
  let module: WebAssembly.Module;
  let routed: Readonly<Record<number, string>>;
  try {
    const rewritten = routeBuiltinsToHost(bytes);
    routed = rewritten.routed;
    module = await WebAssembly.compile(rewritten.bytes);
  } catch (cause) {
    throw new BouncerError('BUNDLE_WASM_INVALID', `policy.wasm does not compile: ${describeThrown(cause)}`, { cause });
  }
  if (!moduleImports(module).some((i) => i.kind === 'memory')) {
    throw new BouncerError('BUNDLE_WASM_INVALID', 'policy.wasm does not import its memory (env.memory), as every OPA-built module does');
  }
  let loaded;
  try {
    loaded = loadPolicySync(module, limits ? { initial: 16, maximum: limits.maxMemoryPages } : {}, routed);
  } catch (cause) {
    throw new BouncerError('BUNDLE_WASM_INVALID', `policy.wasm does not instantiate as an OPA policy: ${describeThrown(cause)}`, { cause });
  }
  const instance = ('instance' in loaded.wasmInstance ? loaded.wasmInstance.instance : loaded.wasmInstance) as WebAssembly.Instance;
  const exports = instance.exports as unknown as WasmExports;
  const dump = (addr: number): unknown => {
    const raw = exports.opa_json_dump(addr);
    const bytes = new Uint8Array(loaded.mem.buffer);
    let end = raw;
    while (bytes[end] !== 0) end++;
    return parseJson(new TextDecoder().decode(bytes.subarray(raw, end)));
  };
  const hostBuiltins = Object.keys(dump(exports.builtins()) as Record<string, number>).sort();
  const supported = supportedBuiltins();
  const missing = hostBuiltins.filter((name) => !supported.has(name));
  if (missing.length > 0) {
    throw new BouncerError(
      'BUNDLE_BUILTIN_UNSUPPORTED',
      `the policies use builtins the WASM runtime does not implement: ${missing.join(', ')}`,
      { details: { builtins: missing } },
    );
  }
  return { module, entrypoints: loaded.entrypoints as Record<string, number>, hostBuiltins, routed };
}
