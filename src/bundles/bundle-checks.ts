// The checks a bundle passes before it can be published that are about its content, not
// its packaging: data.json shape and roots, and the self-check probe every policy must
// evaluate cleanly.
import { BouncerError, describeThrown } from '../errors/errors.js';
import type { Evaluator } from '../engine/evaluator.js';
import type { BundledConstraint, BundledTemplate, GatekeeperManifest } from './gatekeeper-manifest.js';
import { sortedJson } from '../gatekeeper/case-review.js';
import { contextText, withGatekeeperContext } from './gatekeeper-input.js';
import type { PolicyMetadata } from './policy-metadata.js';
import { readMutateResult, readValidateResult } from './policy-result.js';
import { parseJson } from '../json/parse-json.js';

export interface LoadedPolicy {
  readonly meta: PolicyMetadata;
  /** Entrypoint ids in the bundle's module. */
  readonly validate?: number;
  readonly mutate?: number;
}

/** A compiled ConstraintTemplate: one entrypoint evaluates all its matched constraints. */
export interface LoadedTemplate {
  readonly meta: BundledTemplate;
  readonly validate: number;
  /** The template's constraints, ordered by id. */
  readonly constraints: readonly BundledConstraint[];
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

/** data.json must be an object, and may only hold data under the manifest's roots. */
export function checkData(bytes: Uint8Array, roots: readonly string[]): void {
  let value: unknown;
  try {
    value = parseJson(decoder.decode(bytes));
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

/** Every entrypoint of every policy evaluates the probe without error and returns a well-formed result. */
export function selfCheck(evaluator: Evaluator, policies: readonly LoadedPolicy[]): void {
  const calls = policies.flatMap((p) => [
    ...(p.validate === undefined ? [] : [{ p, kind: 'validate' as const, id: p.validate }]),
    ...(p.mutate === undefined ? [] : [{ p, kind: 'mutate' as const, id: p.mutate }]),
  ]);
  const outcomes = evaluator.evaluate(PROBE, calls.map((c) => c.id));
  calls.forEach((call, i) => {
    const outcome = outcomes[i];
    const where = `policy ${call.p.meta.id} (${call.kind})`;
    if (outcome && !outcome.ok && outcome.failure.class === 'memory') {
      throw new BouncerError('BUNDLE_OVER_BUDGET', `${where} runs out of WASM memory on the probe review: ${outcome.failure.message}`);
    }
    if (!outcome?.ok) throw new BouncerError('BUNDLE_SELF_CHECK_FAILED', `${where} fails on the probe review: ${outcome?.failure.message}`);
    try {
      if (call.kind === 'validate') readValidateResult(outcome.value);
      else readMutateResult(outcome.value);
    } catch (err) {
      throw new BouncerError('BUNDLE_SELF_CHECK_FAILED', `${where} returns a malformed result: ${describeThrown(err)}`, { cause: err });
    }
  });
}

/**
 * A template entrypoint's value: constraint name → its violations, each a string msg and an
 * optional details object. The violations of one constraint are a set of {details (default
 * {}), msg}, as the hook module of Gatekeeper's constraint framework collects them: two that
 * differ only in other members are one.
 */
export function readTemplateResult(value: unknown): Record<string, { msg: string; details?: Record<string, unknown> }[]> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BouncerError('POLICY_RESULT_INVALID', 'a template result must be an object');
  const out: Record<string, { msg: string; details?: Record<string, unknown> }[]> = {};
  for (const [name, list] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw new BouncerError('POLICY_RESULT_INVALID', `violations of ${name} must be a list`);
    const seen = new Set<string>();
    out[name] = [];
    for (const v of list as unknown[]) {
      if (typeof v !== 'object' || v === null || typeof (v as { msg?: unknown }).msg !== 'string') {
        throw new BouncerError('POLICY_RESULT_INVALID', `a violation of ${name} has no string msg (Gatekeeper requires violation[{"msg": ...}])`);
      }
      const msg = (v as { msg: string }).msg;
      const raw = (v as { details?: unknown }).details;
      const details = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
      const key = sortedJson({ details: details ?? {}, msg });
      if (seen.has(key)) continue;
      seen.add(key);
      out[name].push(details ? { msg, details } : { msg });
    }
  }
  return out;
}

/**
 * Every template evaluates the probe review with all its constraints matched, without error
 * and with a well-formed result: a template that fails on a plain Pod would deny every
 * request it matches, so it is refused before it goes live.
 */
export function selfCheckTemplates(evaluator: Evaluator, manifest: GatekeeperManifest, templates: readonly LoadedTemplate[]): void {
  if (templates.length === 0) return;
  const matched: Record<string, string[]> = {};
  for (const t of templates) matched[t.meta.kind] = t.constraints.map((c) => c.name);
  const input = withGatekeeperContext(PROBE, contextText({ gatekeeper: { [manifest.key]: matched }, namespaceObject: {} }));
  const outcomes = evaluator.evaluate(input, templates.map((t) => t.validate));
  templates.forEach((t, i) => {
    const outcome = outcomes[i];
    const where = `template ${t.meta.name}`;
    if (outcome && !outcome.ok && outcome.failure.class === 'memory') {
      throw new BouncerError('BUNDLE_OVER_BUDGET', `${where} runs out of WASM memory on the probe review: ${outcome.failure.message}`);
    }
    if (!outcome?.ok) throw new BouncerError('BUNDLE_SELF_CHECK_FAILED', `${where} fails on the probe review: ${outcome?.failure.message}`);
    try {
      readTemplateResult(outcome.value);
    } catch (err) {
      throw new BouncerError('BUNDLE_SELF_CHECK_FAILED', `${where} returns a malformed result: ${describeThrown(err)}`, { cause: err });
    }
  });
}
