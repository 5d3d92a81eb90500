// Loading a bundle: every check runs before anything is published. The result is an
// immutable, self-contained object (compiled module, instance with data, policies) that
// a policy set can hold; a failure throws a BouncerError whose code says which check failed.
import { createHash } from 'node:crypto';
import { BouncerError, describeThrown, isBouncerError } from '../errors/errors.js';
import { createEvaluator, DEFAULT_LIMITS, type Evaluator, type EvaluatorLimits } from '../engine/evaluator.js';
import type { Loadable } from '../engine/backend.js';
import { compileWasm } from '../engine/wasm-module.js';
import { readBundleArchive, type BundleFiles } from './archive.js';
import { parseManifest, type BundleManifest } from './manifest.js';
import type { PolicyMetadata } from './policy-metadata.js';
import { readMutateResult, readValidateResult } from './policy-result.js';

export interface LoadedPolicy {
  readonly meta: PolicyMetadata;
  /** Entrypoint ids in the bundle's module. */
  readonly validate?: number;
  readonly mutate?: number;
}

export interface LoadedBundle extends Loadable {
  readonly name: string;
  readonly revision: string;
  /** sha256 of the bundle bytes, hex. */
  readonly digest: string;
  readonly manifest: BundleManifest;
  /** Ordered by policy id. */
  readonly policies: readonly LoadedPolicy[];
  readonly evaluator: Evaluator;
}

export interface LoadOptions {
  readonly limits?: EvaluatorLimits;
  /** Checks the bundle's files before anything is compiled (signature verification). */
  readonly verify?: (files: BundleFiles) => void | Promise<void>;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** A harmless review every policy must evaluate without error before its bundle goes live. */
const PROBE = new TextEncoder().encode(
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '00000000-0000-0000-0000-000000000000',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: 'bouncer-self-check',
      name: 'probe',
      userInfo: { username: 'system:bouncer:self-check' },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'probe', namespace: 'bouncer-self-check' },
        spec: { containers: [{ name: 'probe', image: 'registry.k8s.io/pause:3.10' }] },
      },
      oldObject: null,
      dryRun: true,
    },
  }),
);

function file(files: BundleFiles, path: string, code: 'BUNDLE_MANIFEST_INVALID' | 'BUNDLE_WASM_INVALID'): Uint8Array {
  const content = files.get(path);
  if (!content) throw new BouncerError(code, `the bundle has no ${path}`);
  return content;
}

/** data.json must be an object, and may only hold data under the manifest's roots. */
function checkData(bytes: Uint8Array, roots: readonly string[]): void {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('data.json must be a JSON object');
  } catch (cause) {
    throw new BouncerError('BUNDLE_DATA_INVALID', `data.json is not a JSON object: ${describeThrown(cause)}`, { cause });
  }
  if (roots.includes('')) return;
  const under = (path: string) => roots.some((r) => path === r || path.startsWith(`${r}/`));
  const above = (path: string) => roots.some((r) => r.startsWith(`${path}/`));
  const outside: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (under(path)) return;
    if (above(path) && node && typeof node === 'object' && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node)) walk(v, `${path}/${k}`);
      return;
    }
    outside.push(path);
  };
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, k);
  if (outside.length > 0) throw new BouncerError('BUNDLE_DATA_INVALID', `data.json holds data outside the bundle roots: ${outside.slice(0, 5).join(', ')}`);
}

function selfCheck(evaluator: Evaluator, policies: readonly LoadedPolicy[]): void {
  const calls = policies.flatMap((p) => [
    ...(p.validate === undefined ? [] : [{ p, kind: 'validate' as const, id: p.validate }]),
    ...(p.mutate === undefined ? [] : [{ p, kind: 'mutate' as const, id: p.mutate }]),
  ]);
  const outcomes = evaluator.evaluate(PROBE, calls.map((c) => c.id));
  calls.forEach((call, i) => {
    const outcome = outcomes[i];
    const where = `policy ${call.p.meta.id} (${call.kind})`;
    if (!outcome?.ok) throw new BouncerError('BUNDLE_SELF_CHECK_FAILED', `${where} fails on the probe review: ${outcome?.failure.message}`);
    try {
      if (call.kind === 'validate') readValidateResult(outcome.value);
      else readMutateResult(outcome.value);
    } catch (err) {
      throw new BouncerError('BUNDLE_SELF_CHECK_FAILED', `${where} returns a malformed result: ${describeThrown(err)}`, { cause: err });
    }
  });
}

/** Untars, checks and compiles a bundle; throws a BouncerError naming the failed check. */
export async function loadBundle(name: string, bytes: Uint8Array, options: LoadOptions = {}): Promise<LoadedBundle> {
  const files = await readBundleArchive(bytes);
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
  const wasm = await compileWasm(file(files, [...modules][0] as string, 'BUNDLE_WASM_INVALID'));
  const data = files.get('/data.json') ?? new TextEncoder().encode('{}');
  checkData(data, manifest.roots);
  const limits = options.limits ?? DEFAULT_LIMITS;
  const evaluator = createEvaluator(wasm, data, limits);

  const entrypoint = (policy: string, name: string | undefined): number | undefined => {
    if (name === undefined) return undefined;
    const id = wasm.entrypoints[name];
    if (id === undefined) throw new BouncerError('BUNDLE_WASM_INVALID', `policy ${policy}: policy.wasm has no entrypoint ${name}`);
    return id;
  };
  // Ordered by id once here: reviews evaluate and report policies in this order.
  const policies: LoadedPolicy[] = [...manifest.policies]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((meta) => {
      const validate = entrypoint(meta.id, meta.entrypoints.validate);
      const mutate = entrypoint(meta.id, meta.entrypoints.mutate);
      return Object.freeze({ meta, ...(validate === undefined ? {} : { validate }), ...(mutate === undefined ? {} : { mutate }) });
    });
  selfCheck(evaluator, policies);
  const digest = createHash('sha256').update(bytes).digest('hex');
  return Object.freeze({
    name,
    revision: manifest.revision,
    digest,
    key: digest,
    wasm,
    data,
    limits,
    manifest,
    policies: Object.freeze(policies),
    evaluator,
  });
}
