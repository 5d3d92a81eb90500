// Whether a policy looks at a request, from its declared scope. Matching happens before
// evaluation so out-of-scope policies cost nothing.
//
// Kinds are matched the way the webhook rules rendered from the same scope match: by the
// request's resource (group and plural) and subresource, not by `request.kind`, which for a
// subresource is the kind of what is sent (PodExecOptions for pods/exec, Eviction for
// pods/eviction, Scale for deployments/scale, TokenRequest for serviceaccounts/token).
import type { AdmissionRequest } from '../admission/types.js';
import type { KindMatcher, PolicyScope } from '../bundles/policy-metadata.js';

function kindMatches(k: KindMatcher, request: AdmissionRequest): boolean {
  const { group, resource } = request.resource;
  if (k.kind === '*') return k.group === '*' || k.group === group;
  if (k.resource !== undefined) return (k.group === '*' || k.group === group) && k.resource === resource;
  // No recorded resource (a bundle built before they were recorded, or a custom kind given
  // without its plural): the request's kind, which is the resource's own kind on the main
  // resource and on status (the build refuses other subresources for such kinds).
  return (k.group === '*' || k.group === request.kind.group) && k.kind === request.kind.kind;
}

/** True when a policy with this scope is to be evaluated for the request. */
export function inScope(scope: PolicyScope, request: AdmissionRequest): boolean {
  if (!scope.kinds.some((k) => kindMatches(k, request))) return false;
  if (!scope.operations.includes(request.operation)) return false;
  const sub = request.subResource ?? '';
  if (!scope.subresources.some((s) => s === '*' || s === sub)) return false;
  const namespace = request.namespace ?? '';
  const { include, exclude } = scope.namespaces;
  if (include && !include.includes(namespace)) return false;
  if (exclude?.includes(namespace)) return false;
  return true;
}
