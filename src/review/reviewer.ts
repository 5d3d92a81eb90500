// The request handler, free of HTTP: a checked review and its raw bytes in, a Decision
// out. It reads the active policy set once and uses that snapshot to the end.
import { randomUUID } from 'node:crypto';
import type { Endpoint } from '../admission/respond.js';
import type { AdmissionRequest, AdmissionReview } from '../admission/types.js';
import type { PolicySet } from '../bundles/policy-set.js';
import { inProcessBackend, type EvalBackend } from '../engine/backend.js';
import type { Decision, RequestSummary } from './decision.js';
import { decide } from './decide.js';
import type { DecisionCache } from './decision-cache.js';
import type { NamespaceInfo, NamespaceLookup } from '../gatekeeper/types.js';
import { planConstraints, requestNamespace, type ConstraintPlan } from './constraint-plan.js';
import { evaluatePolicies, overloadOutcomes } from './evaluate-policies.js';
import { bundleRequirements, type InventoryHealth } from './inventory-gate.js';
import { combinePatches } from './patches.js';
import { exemptions } from './exemptions.js';
import type { RolloutSnapshot } from '../bundles/rollout-snapshot.js';
import { chooseRollout } from './rollout-select.js';
import type { ShadowRunner } from './shadow-runner.js';
import type { Tracing } from '../telemetry/tracing.js';

export interface Reviewer {
  /**
   * Decides one review. `receivedAt` (epoch ms, default now) is when the request arrived: the
   * review's budget runs from there, since the API server's timeout runs while the body is
   * read and decoded too.
   */
  review(endpoint: Endpoint, review: AdmissionReview, raw: Uint8Array, receivedAt?: number): Promise<Decision>;
  /**
   * The decision for a review shed at the edge (bouncer is at capacity): nothing is
   * evaluated; every policy that would have run fails as overloaded and its failure mode
   * decides. Cheap by design: no engine, no cache, no patch.
   */
  shed(endpoint: Endpoint, review: AdmissionReview): Decision;
}

export interface ReviewerDeps {
  /** The active policy set (read once per review). */
  readonly policies: () => PolicySet | undefined;
  /** Where WASM runs (default: this thread). */
  readonly backend?: EvalBackend;
  /**
   * Each review is answered within this budget, a deadline carried with its evaluation: a
   * policy may run for min(its timeout, time left); policies still running or not started at
   * the deadline fail by their failure mode (enforced by the worker pool; the in-process
   * backend cannot interrupt WASM).
   */
  readonly reviewBudgetMs?: number;
  readonly now?: () => number;
  readonly newId?: () => string;
  /** Outcomes of reviews already seen, by content (see decision-cache.ts). */
  readonly cache?: DecisionCache;
  /**
   * Namespaces (labels) for Gatekeeper constraints' namespaceSelector and namespaceObject.
   * When given, a request in an unknown namespace fails its matched constraints (closed);
   * without it, namespaceSelector cannot match and namespaceObject is {}.
   */
  readonly namespaces?: NamespaceLookup;
  /**
   * Asks the API server for a Namespace `namespaces` does not know (one created a moment ago
   * whose watch event has not arrived), as Gatekeeper's webhook does after a cache miss.
   */
  readonly readNamespace?: (name: string) => Promise<NamespaceInfo | undefined>;
  /**
   * The replicated cluster objects' health: policies reading a kind that is not usable now
   * fail by their failure mode without being evaluated. `generation` changes whenever the
   * replicated objects do; it keys the decision cache for sets with such policies, so a cached
   * outcome is never one computed on other data.
   */
  readonly inventory?: InventoryHealth & { generation(): number };
  /**
   * The wall clock (epoch ms) policy exceptions' expiresAt is compared with, read once per
   * review (default Date.now): the audit passes its own, so both judge an object at its time.
   */
  readonly clock?: () => number;
  /**
   * The time policies see (time.now_ns, epoch nanoseconds), read once per review and used by
   * every policy of it; the decision carries it (`nowNs`), so a recorded review replays with
   * the same time. Without it each policy reads the wall clock itself and decisions carry none.
   */
  readonly clockNs?: () => bigint;
  /**
   * The active set with the rollout's candidates beside it (registry.snapshot), read once per
   * review: a canary whose slice holds the request decides it instead of its bundle's active
   * revision (rollout-select.ts). Without it, `policies` decides every review.
   */
  readonly rollout?: () => RolloutSnapshot;
  /** Evaluates shadow candidates after the answer is computed, never awaited by it (shadow-runner.ts). */
  readonly shadow?: ShadowRunner;
  /** The traced request a review runs for (its spans: review, policies, Kubernetes reads); none without it. */
  readonly tracing?: Pick<Tracing, 'current'>;
}

/** Whether any bundle of a set declares replicated kinds, computed once per set. */
function inventoryReaders(): (set: PolicySet) => boolean {
  const known = new WeakMap<PolicySet, boolean>();
  return (set) => {
    let reads = known.get(set);
    if (reads === undefined) {
      reads = set.bundles.some((b) => (bundleRequirements(b.manifest)?.kinds.length ?? 0) > 0);
      known.set(set, reads);
    }
    return reads;
  };
}

/** What was decided before evaluation (matches, the Namespace): part of a review's content for the decision cache. */
function plannedKey(plan: ConstraintPlan | undefined): string {
  if (!plan || (plan.context === undefined && plan.unmatchable.length === 0)) return '';
  return `\u0000${plan.context ?? ''}\u0000${plan.unmatchable.map((o) => o.policy).join(',')}`;
}

function objectName(req: AdmissionRequest): string {
  if (req.name) return req.name;
  const meta = req.objectMetadata ?? (req.object as { metadata?: Record<string, unknown> } | undefined)?.metadata;
  if (typeof meta?.name === 'string') return meta.name;
  return typeof meta?.generateName === 'string' ? `${meta.generateName}*` : '';
}

export function summarize(req: AdmissionRequest): RequestSummary {
  const { group, version, kind } = req.kind;
  return {
    uid: req.uid,
    kind: group ? `${group}/${version}/${kind}` : `${version}/${kind}`,
    namespace: req.namespace ?? '',
    name: objectName(req),
    operation: req.operation,
    subResource: req.subResource ?? '',
    user: req.userInfo.username ?? '',
    dryRun: req.dryRun === true,
  };
}

export function createReviewer(deps: ReviewerDeps): Reviewer {
  const now = deps.now ?? (() => performance.now());
  const newId = deps.newId ?? randomUUID;
  const backend = deps.backend ?? inProcessBackend();
  const budget = deps.reviewBudgetMs ?? 3000;
  const namespaces: NamespaceLookup = deps.namespaces ?? (() => undefined);
  const setReadsInventory = inventoryReaders();
  const clock = deps.clock ?? Date.now;
  const plan = (set: PolicySet, endpoint: Endpoint, request: AdmissionRequest, lookup: NamespaceLookup = namespaces): ConstraintPlan | undefined =>
    endpoint === 'validate' ? planConstraints(set, request, lookup, { requireNamespace: deps.namespaces !== undefined }) : undefined;
  /** The namespace of a review with Gatekeeper constraints that the cache misses and the API server may know. */
  const missed = (set: PolicySet, endpoint: Endpoint, request: AdmissionRequest): string | undefined => {
    if (!deps.readNamespace || endpoint !== 'validate') return undefined;
    const name = requestNamespace(request);
    if (name === undefined || namespaces(name) !== undefined || !set.bundles.some((b) => b.templates.length > 0)) return undefined;
    return name;
  };
  /** The cache, with the API server's answer for the one name it missed. */
  const withRead = async (name: string): Promise<NamespaceLookup> => {
    const trace = deps.tracing?.current();
    const get = () => deps.readNamespace?.(name).catch(() => undefined) ?? Promise.resolve(undefined);
    const read = await (trace ? trace.client('GET namespaces', { 'k8s.namespace.name': name.slice(0, 253), 'http.request.method': 'GET' }, get) : get());
    return read ? (n) => (n === name ? read : namespaces(n)) : namespaces;
  };
  return {
    async review(endpoint, review, raw, receivedAt = Date.now()) {
      const started = now();
      const nowNs = deps.clockNs?.();
      const span = deps.tracing?.current()?.review();
      const request = review.request;
      const snapshot = deps.rollout?.();
      const choice = snapshot && snapshot.candidates.length > 0 ? chooseRollout(snapshot, request, namespaces) : undefined;
      const set = choice ? choice.set : deps.policies();
      const miss = set && missed(set, endpoint, request);
      const constraints = set ? plan(set, endpoint, request, miss ? await withRead(miss) : namespaces) : undefined;
      const generation = deps.inventory && set && deps.cache && setReadsInventory(set) ? `\u0000${deps.inventory.generation()}` : '';
      const key = deps.cache && set && review.contentDigest ? `${endpoint}\u0000${set.digest}${generation}\u0000${review.contentDigest()}${plannedKey(constraints)}` : undefined;
      const cached = key === undefined ? undefined : deps.cache?.get(key);
      const evaluate = () => evaluatePolicies(set as PolicySet, endpoint, request, raw, backend, receivedAt + budget, constraints, deps.inventory, nowNs);
      let outcomes = cached ? [...cached] : set ? await (span ? span.evaluation(evaluate) : evaluate()) : [];
      if (key !== undefined && !cached) deps.cache?.set(key, outcomes);
      // After the cache, which holds outcomes as evaluated: exceptions apply at this review's
      // time, the one its policies saw when it is pinned (so a replayed review is exempted as it was).
      const at = nowNs === undefined ? clock() : Number(nowNs / 1_000_000n);
      const exempted = set ? exemptions(set, request, outcomes, { at, namespaces }) : outcomes;
      if (exempted !== outcomes) outcomes = [...exempted];
      let patch;
      if (endpoint === 'mutate' && request.operation !== 'DELETE' && request.operation !== 'CONNECT' && outcomes.some((o) => o.action === 'mutate')) {
        const combined = combinePatches(request.object, outcomes);
        outcomes = [...combined.outcomes];
        patch = combined.patch;
      }
      const canarying = choice !== undefined && snapshot !== undefined && snapshot.candidates.some((c) => c.mode === 'canary');
      const decision = decide({
        id: newId(),
        endpoint,
        request: summarize(request),
        revision: set?.revision,
        outcomes,
        ...(patch ? { patch } : {}),
        durationMs: now() - started,
        ...(cached ? { cached: true } : {}),
        ...(canarying ? { rollout: { role: choice.role, canaries: choice.canaries.map((c) => ({ bundle: c.bundle.name, sequence: c.sequence })) } } : {}),
      });
      const pinned = nowNs === undefined ? decision : { ...decision, nowNs };
      span?.end(pinned);
      if (choice && choice.shadows.length > 0 && deps.shadow) deps.shadow.submit({ decision: pinned, shadows: choice.shadows, endpoint, request, raw });
      return pinned;
    },
    shed(endpoint, review) {
      const started = now();
      const set = deps.policies();
      const request = review.request;
      return decide({
        id: newId(),
        endpoint,
        request: summarize(request),
        revision: set?.revision,
        outcomes: set
          ? [...exemptions(set, request, overloadOutcomes(set, endpoint, request, 'bouncer is at capacity (requests in flight); the review was not evaluated', plan(set, endpoint, request)), { at: clock(), namespaces })]
          : [],
        durationMs: now() - started,
      });
    },
  };
}
