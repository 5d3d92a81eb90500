// Runs the in-scope policies of every bundle in a set against one review and turns each
// engine outcome into a PolicyOutcome. The input is the raw review bytes, parsed once per
// bundle inside WASM.
import type { Endpoint } from '../admission/respond.js';
import type { AdmissionRequest } from '../admission/types.js';
import type { LoadedBundle, LoadedPolicy } from '../bundles/bundle.js';
import { readTemplateResult } from '../bundles/bundle-checks.js';
import { withGatekeeperContext } from '../bundles/gatekeeper-input.js';
import { readMutateResult, readValidateResult } from '../bundles/policy-result.js';
import type { PolicySet } from '../bundles/policy-set.js';
import type { EvalBackend } from '../engine/backend.js';
import type { EvalOutcome } from '../engine/evaluator.js';
import { BouncerError, describeThrown, isBouncerError, type ErrorCode } from '../errors/errors.js';
import { constraintOutcome, type ConstraintPlan, type TemplateJob } from './constraint-plan.js';
import type { PolicyOutcome } from './decision.js';
import { blockedReaders, bundleRequirements, type BlockedReaders, type InventoryHealth } from './inventory-gate.js';
import { inScope } from './scope.js';

/**
 * One literal with every field, so that all outcomes share one object shape (this runs
 * once per policy per review).
 */
function outcome(
  bundle: LoadedBundle,
  policy: LoadedPolicy,
  action: PolicyOutcome['action'],
  violations: PolicyOutcome['violations'] = [],
  warnings: PolicyOutcome['warnings'] = [],
  extra?: Pick<PolicyOutcome, 'patch' | 'error'>,
): PolicyOutcome {
  const { id, enforcement, failure } = policy.meta;
  return { policy: id, bundle: bundle.name, enforcement, failure, action, violations, warnings, ...extra };
}

function errorOutcome(bundle: LoadedBundle, policy: LoadedPolicy, err: unknown, engineClass?: string, engineCode?: ErrorCode): PolicyOutcome {
  const code = engineClass ? (engineCode ?? 'POLICY_EVAL_FAILED') : isBouncerError(err) ? err.code : 'POLICY_RESULT_INVALID';
  return outcome(bundle, policy, 'error', [], [], { error: { code, class: engineClass ?? 'result', message: describeThrown(err) } });
}

function toOutcome(endpoint: Endpoint, bundle: LoadedBundle, policy: LoadedPolicy, result: EvalOutcome): PolicyOutcome {
  if (!result.ok) return errorOutcome(bundle, policy, result.failure.message, result.failure.class, result.failure.code);
  const { enforcement } = policy.meta;
  try {
    if (endpoint === 'mutate') {
      const patch = readMutateResult(result.value);
      if (patch.length === 0) return outcome(bundle, policy, 'pass');
      return outcome(bundle, policy, enforcement === 'dryrun' ? 'dryrun' : 'mutate', [], [], { patch });
    }
    if (result.value === undefined) return outcome(bundle, policy, 'pass');
    const { deny, warn } = readValidateResult(result.value);
    const action = deny.length > 0 ? enforcement : warn.length > 0 ? (enforcement === 'dryrun' ? 'dryrun' : 'warn') : 'pass';
    return outcome(bundle, policy, action, deny, warn);
  } catch (err) {
    return errorOutcome(bundle, policy, err);
  }
}

/** The in-scope policies of every bundle with an entrypoint for `endpoint`, bundles without any left out. */
function selectPolicies(set: PolicySet, endpoint: Endpoint, request: AdmissionRequest): { bundle: LoadedBundle; policies: LoadedPolicy[] }[] {
  return set.bundles
    .map((bundle) => ({
      bundle,
      policies: bundle.policies.filter((p) => p[endpoint] !== undefined && inScope(p.meta.scope, request)),
    }))
    .filter((s) => s.policies.length > 0);
}

/**
 * The outcomes of a review that is not evaluated because bouncer is at capacity: every
 * policy that would have run fails with class `overload`, so each one's failure mode decides
 * — the same answer the worker pool gives past its queue bound, without touching it.
 */
export function overloadOutcomes(set: PolicySet, endpoint: Endpoint, request: AdmissionRequest, message: string, plan?: ConstraintPlan): PolicyOutcome[] {
  const native = selectPolicies(set, endpoint, request).flatMap((s) => s.policies.map((policy) => errorOutcome(s.bundle, policy, message, 'overload')));
  if (!plan) return native;
  return [...native, ...plan.unmatchable, ...[...plan.jobs].flatMap(([bundle, jobs]) => jobs.flatMap((job) => templateFailure(bundle, job, 'overload', message)))];
}

/** Gatekeeper's rule: a template that fails yields one violation per matched constraint, under that constraint's action. */
function templateFailure(bundle: LoadedBundle, job: TemplateJob, engineClass: string, message: string, code: ErrorCode = 'POLICY_EVAL_FAILED'): PolicyOutcome[] {
  const msg = `template ${job.template.meta.name} failed to evaluate (${engineClass}): ${message}`;
  return job.matched.map((m) => constraintOutcome(bundle, m.constraint, m.action, [{ msg }], { code, class: engineClass, message }));
}

function templateOutcomes(bundle: LoadedBundle, job: TemplateJob, result: EvalOutcome): PolicyOutcome[] {
  if (!result.ok) return templateFailure(bundle, job, result.failure.class, result.failure.message, result.failure.code);
  let violations;
  try {
    violations = readTemplateResult(result.value);
  } catch (err) {
    return templateFailure(bundle, job, 'result', describeThrown(err), 'POLICY_RESULT_INVALID');
  }
  return job.matched.map((m) => constraintOutcome(bundle, m.constraint, m.action, violations[m.constraint.name] ?? []));
}

/**
 * Outcomes of every in-scope policy with an entrypoint for `endpoint`, ordered by bundle then
 * policy id. Throws REVIEW_NOT_JSON when the engine cannot parse the input. With `inventory`,
 * policies and templates reading a replicated kind that is not usable now are not evaluated:
 * they fail (class inventory) and their failure mode, or their constraints' actions, decide.
 * `nowNs` pins time.now_ns for every policy of the review (see backend.ts).
 */
export async function evaluatePolicies(
  set: PolicySet,
  endpoint: Endpoint,
  request: AdmissionRequest,
  input: Uint8Array,
  backend: EvalBackend,
  deadline: number,
  plan?: ConstraintPlan,
  inventory?: InventoryHealth,
  nowNs?: bigint,
): Promise<PolicyOutcome[]> {
  const natives = new Map(selectPolicies(set, endpoint, request).map((s) => [s.bundle, s.policies]));
  const jobs = endpoint === 'validate' ? (plan?.jobs ?? new Map<LoadedBundle, readonly TemplateJob[]>()) : new Map<LoadedBundle, readonly TemplateJob[]>();
  const bundles = set.bundles.filter((b) => natives.has(b) || jobs.has(b));
  const early = endpoint === 'validate' ? (plan?.unmatchable ?? []) : [];
  if (bundles.length === 0) return [...early];
  const selected = bundles.map((bundle) => {
    const blocked: BlockedReaders | undefined = inventory ? blockedReaders(bundleRequirements(bundle.manifest), inventory) : undefined;
    const policies = natives.get(bundle) ?? [];
    const templates = jobs.get(bundle) ?? [];
    return {
      bundle,
      blocked,
      policies: blocked ? policies.filter((p) => !blocked.policies.has(p.meta.id)) : policies,
      templates: blocked ? templates.filter((t) => !blocked.templates.has(t.template.meta.kind)) : templates,
      all: { policies, templates },
    };
  });
  const evaluated = selected.filter((s) => s.policies.length + s.templates.length > 0);
  const results = await backend.evaluate(
    jobs.size > 0 && plan?.context ? withGatekeeperContext(input, plan.context) : input,
    evaluated.map((s) => ({ bundle: s.bundle, entrypoints: [...s.policies.map((p) => p[endpoint] as number), ...s.templates.map((t) => t.template.validate)] })),
    deadline,
    nowNs,
  );
  // Bytes the engine cannot parse are a malformed review, never a policy failure to settle
  // by failure mode: one such outcome, in any bundle, rejects the whole review. The decoder
  // accepts only JSON the engine parses (admission/strict-json.ts), so this is the guard
  // for what it cannot foresee (nesting beyond this thread's stack, memory).
  const unparsed = results.flat().find((o) => !o.ok && o.failure.class === 'input');
  if (unparsed && !unparsed.ok) {
    throw new BouncerError('REVIEW_NOT_JSON', `the request body is not valid JSON: ${unparsed.failure.message}`, { details: { uid: request.uid } });
  }
  const missing: EvalOutcome = { ok: false, failure: { class: 'runtime', message: 'no result' } };
  let next = 0;
  return [
    ...selected.flatMap((s) => {
      // `evaluated` is `selected` without the bundles left with nothing to run, in order.
      const r = s.policies.length + s.templates.length > 0 ? (results[next++] ?? []) : [];
      if (!s.blocked) {
        return [
          ...s.policies.map((policy, i) => toOutcome(endpoint, s.bundle, policy, r[i] ?? missing)),
          ...s.templates.flatMap((job, i) => templateOutcomes(s.bundle, job, r[s.policies.length + i] ?? missing)),
        ];
      }
      const byPolicy = new Map(s.policies.map((p, i) => [p, r[i] ?? missing]));
      const byTemplate = new Map(s.templates.map((t, i) => [t, r[s.policies.length + i] ?? missing]));
      return [
        ...s.all.policies.map((policy) => {
          const result = byPolicy.get(policy);
          if (result) return toOutcome(endpoint, s.bundle, policy, result);
          const why = s.blocked?.policies.get(policy.meta.id);
          return errorOutcome(s.bundle, policy, why?.message ?? 'no result', 'inventory', why?.code ?? 'INVENTORY_UNAVAILABLE');
        }),
        ...s.all.templates.flatMap((job) => {
          const result = byTemplate.get(job);
          if (result) return templateOutcomes(s.bundle, job, result);
          const why = s.blocked?.templates.get(job.template.meta.kind);
          return templateFailure(s.bundle, job, 'inventory', why?.message ?? 'no result', why?.code ?? 'INVENTORY_UNAVAILABLE');
        }),
      ];
    }),
    ...early,
  ];
}
