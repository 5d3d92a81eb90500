// Runs the in-scope policies of every bundle in a set against one review and turns each
// engine outcome into a PolicyOutcome. The input is the raw review bytes, parsed once per
// bundle inside WASM.
import type { Endpoint } from '../admission/respond.js';
import type { AdmissionRequest } from '../admission/types.js';
import type { LoadedBundle, LoadedPolicy } from '../bundles/bundle.js';
import { readMutateResult, readValidateResult } from '../bundles/policy-result.js';
import type { PolicySet } from '../bundles/policy-set.js';
import type { EvalBackend } from '../engine/backend.js';
import type { EvalOutcome } from '../engine/evaluator.js';
import { describeThrown, isBouncerError } from '../errors/errors.js';
import type { PolicyOutcome } from './decision.js';
import { inScope } from './scope.js';

function base(bundle: LoadedBundle, policy: LoadedPolicy) {
  const { id, enforcement, failure } = policy.meta;
  return { policy: id, bundle: bundle.name, enforcement, failure, violations: [], warnings: [] };
}

function errorOutcome(bundle: LoadedBundle, policy: LoadedPolicy, err: unknown, engineClass?: string): PolicyOutcome {
  const code = engineClass ? 'POLICY_EVAL_FAILED' : isBouncerError(err) ? err.code : 'POLICY_RESULT_INVALID';
  return {
    ...base(bundle, policy),
    action: 'error',
    error: { code, class: engineClass ?? 'result', message: describeThrown(err) },
  };
}

function toOutcome(endpoint: Endpoint, bundle: LoadedBundle, policy: LoadedPolicy, outcome: EvalOutcome): PolicyOutcome {
  if (!outcome.ok) return errorOutcome(bundle, policy, outcome.failure.message, outcome.failure.class);
  const { enforcement } = policy.meta;
  try {
    if (endpoint === 'mutate') {
      const patch = readMutateResult(outcome.value);
      if (patch.length === 0) return { ...base(bundle, policy), action: 'pass' };
      return { ...base(bundle, policy), action: enforcement === 'dryrun' ? 'dryrun' : 'mutate', patch };
    }
    const { deny, warn } = readValidateResult(outcome.value);
    const action = deny.length > 0 ? enforcement : warn.length > 0 ? (enforcement === 'dryrun' ? 'dryrun' : 'warn') : 'pass';
    return { ...base(bundle, policy), action, violations: deny, warnings: warn };
  } catch (err) {
    return errorOutcome(bundle, policy, err);
  }
}

/** Outcomes of every in-scope policy with an entrypoint for `endpoint`, ordered by bundle then policy id. */
export async function evaluatePolicies(
  set: PolicySet,
  endpoint: Endpoint,
  request: AdmissionRequest,
  input: Uint8Array,
  backend: EvalBackend,
  deadline: number,
): Promise<PolicyOutcome[]> {
  const selected = set.bundles
    .map((bundle) => ({
      bundle,
      policies: bundle.policies
        .filter((p) => p[endpoint] !== undefined && inScope(p.meta.scope, request))
        .sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1)),
    }))
    .filter((s) => s.policies.length > 0);
  if (selected.length === 0) return [];
  const results = await backend.evaluate(
    input,
    selected.map((s) => ({ bundle: s.bundle, entrypoints: s.policies.map((p) => p[endpoint] as number) })),
    deadline,
  );
  return selected.flatMap((s, j) =>
    s.policies.map((policy, i) => toOutcome(endpoint, s.bundle, policy, results[j]?.[i] ?? { ok: false, failure: { class: 'runtime', message: 'no result' } })),
  );
}
