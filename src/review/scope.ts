// Whether a policy looks at a request, from its declared scope. Matching happens before
// evaluation so out-of-scope policies cost nothing.
import type { AdmissionRequest } from '../admission/types.js';
import type { PolicyScope } from '../bundles/policy-metadata.js';

export function inScope(scope: PolicyScope, request: AdmissionRequest): boolean {
  const { group, kind } = request.kind;
  if (!scope.kinds.some((k) => (k.group === '*' || k.group === group) && (k.kind === '*' || k.kind === kind))) return false;
  if (!scope.operations.includes(request.operation)) return false;
  const sub = request.subResource ?? '';
  if (!scope.subresources.some((s) => s === '*' || s === sub)) return false;
  const namespace = request.namespace ?? '';
  const { include, exclude } = scope.namespaces;
  if (include && !include.includes(namespace)) return false;
  if (exclude?.includes(namespace)) return false;
  return true;
}
