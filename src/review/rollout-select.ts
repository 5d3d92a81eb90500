// Which policy set decides a review during a rollout: the canaries whose slice holds the
// request (canary-slice.ts) replace their bundle's active revision; every other request is
// decided by the active set alone. The choice is made once per review, from the snapshot
// the review read, and named on the decision (its role and the canaries that decided it).
import type { AdmissionRequest } from '../admission/types.js';
import type { PolicySet } from '../bundles/policy-set.js';
import type { RolloutSnapshot, StagedCandidate } from '../bundles/rollout-snapshot.js';
import type { NamespaceLookup } from '../gatekeeper/types.js';

export interface RolloutChoice {
  readonly set: PolicySet | undefined;
  readonly role: 'active' | 'canary';
  /** The canaries deciding this review (empty for the active role). */
  readonly canaries: readonly StagedCandidate[];
  /** Shadow candidates to evaluate off the answer path. */
  readonly shadows: readonly StagedCandidate[];
}

function sliceName(request: AdmissionRequest): string {
  if (request.name) return request.name;
  const meta = (request.object ?? request.oldObject) as { metadata?: { name?: unknown; generateName?: unknown } } | undefined;
  if (typeof meta?.metadata?.name === 'string') return meta.metadata.name;
  return typeof meta?.metadata?.generateName === 'string' ? meta.metadata.generateName : '';
}

export function chooseRollout(snapshot: RolloutSnapshot, request: AdmissionRequest, namespaces: NamespaceLookup): RolloutChoice {
  const { candidates } = snapshot;
  // A set without bundles is no policy set (every bundle removed): the review fails closed, whatever candidates remain.
  const active = snapshot.active && snapshot.active.bundles.length > 0 ? snapshot.active : undefined;
  if (candidates.length === 0 || !active) return { set: active, role: 'active', canaries: [], shadows: [] };
  const namespace = request.namespace ?? '';
  const name = sliceName(request);
  let labels: Readonly<Record<string, string>> | undefined | null = null;
  const canaries: StagedCandidate[] = [];
  const shadows: StagedCandidate[] = [];
  for (const c of candidates) {
    if (c.mode === 'shadow') {
      shadows.push(c);
      continue;
    }
    if (!c.slice) continue;
    if (labels === null) labels = namespace === '' ? undefined : namespaces(namespace)?.labels;
    if (c.slice({ namespace, name, namespaceLabels: labels })) canaries.push(c);
  }
  if (canaries.length === 0) return { set: active, role: 'active', canaries, shadows };
  return { set: snapshot.canarySet(canaries), role: 'canary', canaries, shadows };
}
