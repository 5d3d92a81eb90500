// Runs the in-scope policies of every bundle in a set against one review and turns each
// engine outcome into a PolicyOutcome. The input is the raw review bytes, parsed once per
// bundle inside WASM.
import type { Endpoint } from '../admission/respond.js';
import type { AdmissionRequest } from '../admission/types.js';
import type { LoadedBundle, LoadedPolicy } from '../bundles/bundle.js';
import { readMutateResult, readValidateResult } from '../bundles/policy-result.js';
import type { PolicySet } from '../bundles/policy-set.js';
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
export function evaluatePolicies(set: PolicySet, endpoint: Endpoint, request: AdmissionRequest, input: Uint8Array): PolicyOutcome[] {
  const outcomes: PolicyOutcome[] = [];
  for (const bundle of set.bundles) {
    const applicable = bundle.policies
      .filter((p) => p[endpoint] !== undefined && inScope(p.meta.scope, request))
      .sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1));
    if (applicable.length === 0) continue;
    const results = bundle.evaluator.evaluate(input, applicable.map((p) => p[endpoint] as number));
    applicable.forEach((policy, i) => {
      const result = results[i] ?? { ok: false, failure: { class: 'runtime', message: 'no result' } };
      outcomes.push(toOutcome(endpoint, bundle, policy, result));
    });
  }
  return outcomes;
}
