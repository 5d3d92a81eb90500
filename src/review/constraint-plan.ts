// Which Gatekeeper constraints of a policy set apply to a request, decided in TypeScript
// before anything is evaluated: a template whose constraints all miss costs nothing. The plan
// also carries the context the template entrypoints read (matched names, the Namespace
// object) and the outcomes of constraints that could not be matched at all.
import type { AdmissionRequest } from '../admission/types.js';
import type { LoadedBundle, LoadedTemplate } from '../bundles/bundle.js';
import type { BundledConstraint } from '../bundles/gatekeeper-manifest.js';
import { contextText } from '../bundles/gatekeeper-input.js';
import type { PolicySet } from '../bundles/policy-set.js';
import { webhookActions, decidingAction } from '../gatekeeper/enforcement.js';
import { matchConstraint, matchSubjectFromRequest, unableToMatchMessage } from '../gatekeeper/match.js';
import type { EnforcementAction, NamespaceInfo, NamespaceLookup } from '../gatekeeper/types.js';
import type { PolicyOutcome } from './decision.js';

/** A constraint that applies, with the action it has at bouncer's webhook. */
export interface MatchedConstraint {
  readonly constraint: BundledConstraint;
  readonly action: EnforcementAction;
}

export interface TemplateJob {
  readonly template: LoadedTemplate;
  readonly matched: readonly MatchedConstraint[];
}

export interface ConstraintPlan {
  /** Per bundle, the templates with at least one matched constraint. */
  readonly jobs: ReadonlyMap<LoadedBundle, readonly TemplateJob[]>;
  /** The policy input's `__bouncer` member as JSON text (contextText); undefined when no template is to run. */
  readonly context?: string;
  /** Constraints whose match failed: decided without evaluation, under their action. */
  readonly unmatchable: readonly PolicyOutcome[];
}

/**
 * The namespace a request is in, as Gatekeeper reads it: none for a Namespace itself (the API
 * server sets request.namespace to a Namespace's own name; Gatekeeper clears it, see its
 * webhook's createReviewForRequest), so a Namespace never needs itself to exist.
 */
export function requestNamespace(request: AdmissionRequest): string | undefined {
  if (request.kind.group === '' && request.kind.kind === 'Namespace') return undefined;
  return request.namespace ? request.namespace : undefined;
}


/**
 * input.review.namespaceObject as Gatekeeper passes it: the Namespace, or {} for cluster-scoped
 * requests (its webhook sets no Namespace, and the Rego driver's unset map reaches Rego as an
 * empty object).
 */
export function namespaceObject(info: NamespaceInfo | undefined): unknown {
  if (!info) return {};
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: info.name, labels: info.labels, ...(info.annotations ? { annotations: info.annotations } : {}) },
  };
}

export function constraintOutcome(
  bundle: LoadedBundle,
  constraint: BundledConstraint,
  action: EnforcementAction,
  violations: PolicyOutcome['violations'],
  error?: PolicyOutcome['error'],
): PolicyOutcome {
  return {
    policy: constraint.id,
    bundle: bundle.name,
    enforcement: action,
    failure: 'fail-closed',
    action: violations.length === 0 ? 'pass' : action,
    violations,
    warnings: [],
    constraint: { kind: constraint.kind, name: constraint.name },
    ...(error ? { error } : {}),
  };
}

const NOTHING: ConstraintPlan = { jobs: new Map(), unmatchable: [] };

export interface PlanOptions {
  /**
   * Namespaces are known (a cluster is watched): a namespaced request whose Namespace is
   * unknown cannot be given its namespaceObject, so its matched constraints are decided as
   * unmatchable rather than evaluated without their Namespace. Without it (the CLI without
   * namespace files) namespaceObject is {}.
   */
  readonly requireNamespace: boolean;
}

/** The constraints of `set` that apply to a validating review of `request`. */
export function planConstraints(set: PolicySet, request: AdmissionRequest, namespaces: NamespaceLookup, options: PlanOptions): ConstraintPlan {
  if (!set.bundles.some((b) => b.templates.length > 0)) return NOTHING;
  const subject = matchSubjectFromRequest(request);
  const jobs = new Map<LoadedBundle, TemplateJob[]>();
  const unmatchable: PolicyOutcome[] = [];
  const matchedNames: Record<string, Record<string, string[]>> = {};
  for (const bundle of set.bundles) {
    const key = bundle.manifest.gatekeeper?.key;
    if (key === undefined) continue;
    for (const template of bundle.templates) {
      if (!template.meta.operations.includes(request.operation)) continue;
      const matched: MatchedConstraint[] = [];
      for (const constraint of template.constraints) {
        const action = decidingAction(webhookActions(constraint));
        if (action === undefined) continue;
        const result = matchConstraint(constraint.match, subject, namespaces);
        if ('error' in result) {
          const msg = unableToMatchMessage(result.error);
          unmatchable.push(constraintOutcome(bundle, constraint, action, [{ msg }], { code: 'POLICY_EVAL_FAILED', class: 'match', message: msg }));
        } else if (result.matched) matched.push({ constraint, action });
      }
      if (matched.length === 0) continue;
      jobs.set(bundle, [...(jobs.get(bundle) ?? []), { template, matched }]);
      (matchedNames[key] ??= {})[template.meta.kind] = matched.map((m) => m.constraint.name);
    }
  }
  if (jobs.size === 0) return { jobs, unmatchable };
  const name = requestNamespace(request);
  const ns = name === undefined ? undefined : namespaces(name);
  if (name !== undefined && ns === undefined && options.requireNamespace) {
    const msg = unableToMatchMessage(`namespace ${JSON.stringify(name)} is not known to bouncer yet`);
    const failed = [...jobs].flatMap(([bundle, list]) =>
      list.flatMap((job) => job.matched.map((m) => constraintOutcome(bundle, m.constraint, m.action, [{ msg }], { code: 'POLICY_EVAL_FAILED', class: 'match', message: msg }))),
    );
    return { jobs: new Map(), unmatchable: [...unmatchable, ...failed] };
  }
  return { jobs, unmatchable, context: contextText({ gatekeeper: matchedNames, namespaceObject: namespaceObject(ns) }) };
}
