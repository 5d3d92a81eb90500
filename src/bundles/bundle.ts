// Loading a bundle: every check runs before anything is published. The result is an
// immutable, self-contained object (compiled module, instance with data, policies) that
// a policy set can hold; a failure throws a BouncerError whose code says which check failed.
//
// A load has three steps, kept apart so the bundle loader (bundle-loader.ts) can run the
// first two in a worker thread with a time and memory budget:
//   readBundle     untar, verify the signature, parse the manifest and data — no WASM yet;
//   compileBundle  compile, instantiate (runs the module's start function), load the data,
//                  resolve entrypoints and run the self-check probe;
//   assembleBundle the frozen LoadedBundle.
// loadBundle runs all three on the calling thread (the CLI and tests).
import { createHash } from 'node:crypto';
import { BouncerError, isBouncerError } from '../errors/errors.js';
import { createEvaluator, DEFAULT_LIMITS, type Evaluator, type EvaluatorLimits } from '../engine/evaluator.js';
import type { Loadable } from '../engine/backend.js';
import { compileWasm, type WasmModule } from '../engine/wasm-module.js';
import { readBundleArchive, type BundleFiles } from './archive.js';
import { checkData, selfCheck, selfCheckTemplates, type LoadedPolicy, type LoadedTemplate } from './bundle-checks.js';
import { parseManifest, type BundleManifest } from './manifest.js';

export type { LoadedPolicy, LoadedTemplate } from './bundle-checks.js';

export interface LoadedBundle extends Loadable {
  readonly name: string;
  readonly revision: string;
  /** sha256 of the bundle bytes, hex. */
  readonly digest: string;
  readonly manifest: BundleManifest;
  /** Ordered by policy id. */
  readonly policies: readonly LoadedPolicy[];
  /** Compiled ConstraintTemplates with their constraints, ordered by kind; empty for native-only bundles. */
  readonly templates: readonly LoadedTemplate[];
  readonly evaluator: Evaluator;
}

export interface LoadOptions {
  readonly limits?: EvaluatorLimits;
  /** Checks the bundle's files before anything is compiled (signature verification). */
  readonly verify?: (files: BundleFiles) => void | Promise<void>;
}

/** A bundle's content once its packaging, signature, manifest and data are checked; nothing compiled. */
export interface BundleParts {
  readonly manifest: BundleManifest;
  readonly wasmBytes: Uint8Array;
  readonly data: Uint8Array;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** sha256 of a bundle's bytes, hex: its identity (pointers, the decision cache, workers). */
export function bundleDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function file(files: BundleFiles, path: string, code: 'BUNDLE_MANIFEST_INVALID' | 'BUNDLE_WASM_INVALID'): Uint8Array {
  const content = files.get(path);
  if (!content) throw new BouncerError(code, `the bundle has no ${path}`);
  return content;
}

/** Files the loader parses as JSON in JavaScript (the signature check parses .manifest and data files too). */
const JSON_FILES = /(^|\/)(\.manifest|\.signatures\.json|data\.json|data\.ya?ml)$/;

export interface ReadOptions {
  readonly verify?: LoadOptions['verify'];
  /**
   * Largest JSON file parsed in JavaScript, bytes; a larger one is refused with
   * BUNDLE_OVER_BUDGET before it is parsed (a parsed value costs several times its text).
   */
  readonly maxJsonBytes?: number;
}

/** Untars, verifies (before anything is compiled) and parses a bundle. */
export async function readBundle(bytes: Uint8Array, options: ReadOptions = {}): Promise<BundleParts> {
  const files = await readBundleArchive(bytes);
  const max = options.maxJsonBytes;
  for (const [path, content] of files) {
    if (max !== undefined && content.byteLength > max && JSON_FILES.test(path)) {
      throw new BouncerError('BUNDLE_OVER_BUDGET', `${path} is ${content.byteLength} bytes; the load budget allows JSON files of at most ${max} bytes`, {
        details: { path, bytes: content.byteLength, maxJsonBytes: max },
      });
    }
  }
  await options.verify?.(files);
  let manifestText: string;
  try {
    manifestText = decoder.decode(file(files, '/.manifest', 'BUNDLE_MANIFEST_INVALID'));
  } catch (cause) {
    if (isBouncerError(cause)) throw cause;
    throw new BouncerError('BUNDLE_MANIFEST_INVALID', '.manifest is not UTF-8', { cause });
  }
  const manifest = parseManifest(manifestText);
  const modules = new Set(manifest.wasm.map((w) => w.module));
  if (modules.size !== 1) throw new BouncerError('BUNDLE_MANIFEST_INVALID', 'a bundle must compile all its policies into one wasm module');
  const wasmBytes = file(files, [...modules][0] as string, 'BUNDLE_WASM_INVALID');
  const data = files.get('/data.json') ?? new TextEncoder().encode('{}');
  checkData(data, manifest.roots);
  return { manifest, wasmBytes, data };
}

/** Compiles and instantiates the module with its data, and self-checks every policy. Runs the bundle's code. */
export async function compileBundle(
  parts: BundleParts,
  limits: EvaluatorLimits,
): Promise<{ wasm: WasmModule; policies: LoadedPolicy[]; templates: LoadedTemplate[]; evaluator: Evaluator }> {
  const wasm = await compileWasm(parts.wasmBytes, limits);
  let evaluator: Evaluator;
  try {
    evaluator = createEvaluator(wasm, parts.data, limits);
  } catch (err) {
    // The policy's allocator failing is the memory bound, not malformed data.
    if (isBouncerError(err, 'BUNDLE_DATA_INVALID') && /opa_malloc|out of memory/i.test(err.message)) {
      throw new BouncerError('BUNDLE_OVER_BUDGET', `data.json does not fit in the WASM memory budget of ${limits.maxMemoryPages} pages (64 KiB each)`, {
        cause: err,
        details: { maxMemoryPages: limits.maxMemoryPages },
      });
    }
    throw err;
  }
  const entrypoint = (policy: string, name: string | undefined): number | undefined => {
    if (name === undefined) return undefined;
    const id = wasm.entrypoints[name];
    if (id === undefined) throw new BouncerError('BUNDLE_WASM_INVALID', `policy ${policy}: policy.wasm has no entrypoint ${name}`);
    return id;
  };
  // Ordered by id once here: reviews evaluate and report policies in this order.
  const policies: LoadedPolicy[] = [...parts.manifest.policies]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((meta) => {
      const validate = entrypoint(meta.id, meta.entrypoints.validate);
      const mutate = entrypoint(meta.id, meta.entrypoints.mutate);
      return Object.freeze({ meta, ...(validate === undefined ? {} : { validate }), ...(mutate === undefined ? {} : { mutate }) });
    });
  selfCheck(evaluator, policies);
  const gatekeeper = parts.manifest.gatekeeper;
  const templates: LoadedTemplate[] = [...(gatekeeper?.templates ?? [])]
    .sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0))
    .map((meta) =>
      Object.freeze({
        meta,
        validate: entrypoint(`template ${meta.name}`, meta.entrypoint) as number,
        constraints: Object.freeze((gatekeeper?.constraints ?? []).filter((c) => c.kind === meta.kind)),
      }),
    );
  if (gatekeeper) selfCheckTemplates(evaluator, gatekeeper, templates);
  return { wasm, policies, templates, evaluator };
}

/** The frozen bundle a policy set holds. */
export function assembleBundle(fields: {
  name: string;
  digest: string;
  manifest: BundleManifest;
  wasm: WasmModule;
  data: Uint8Array;
  limits: EvaluatorLimits;
  policies: readonly LoadedPolicy[];
  templates: readonly LoadedTemplate[];
  evaluator: Evaluator;
}): LoadedBundle {
  const { name, digest, manifest, wasm, data, limits, policies, templates, evaluator } = fields;
  return Object.freeze({
    name,
    revision: manifest.revision,
    digest,
    key: digest,
    wasm,
    data,
    limits,
    manifest,
    policies: Object.freeze([...policies]),
    templates: Object.freeze([...templates]),
    evaluator,
  });
}

/** Untars, checks and compiles a bundle on the calling thread; throws a BouncerError naming the failed check. */
export async function loadBundle(name: string, bytes: Uint8Array, options: LoadOptions = {}): Promise<LoadedBundle> {
  const parts = await readBundle(bytes, options.verify ? { verify: options.verify } : {});
  const limits = options.limits ?? DEFAULT_LIMITS;
  const { wasm, policies, templates, evaluator } = await compileBundle(parts, limits);
  return assembleBundle({ name, digest: bundleDigest(bytes), manifest: parts.manifest, wasm, data: parts.data, limits, policies, templates, evaluator });
}
