// metav1.LabelSelector evaluated as Kubernetes evaluates it (LabelSelectorAsSelector in
// k8s.io/apimachinery pkg/apis/meta/v1/helpers.go, Requirement.Matches in pkg/labels/selector.go):
// matchLabels and matchExpressions are ANDed; a selector with neither matches every object;
// a key counts as present even with an empty value; NotIn and DoesNotExist match when the key
// is absent. Callers that have no selector at all (spec.match without labelSelector) skip this.
import { BouncerError } from '../errors/errors.js';
import type { LabelSelector, LabelSelectorRequirement } from './types.js';

export type Labels = Readonly<Record<string, string>>;

/**
 * True when `labels` satisfy `selector`. Throws POLICY_SOURCE_INVALID only on an operator
 * outside the four (a selector that did not come through parseConstraintMatch), with
 * Kubernetes' wording.
 */
export function matchLabelSelector(selector: LabelSelector, labels: Labels): boolean {
  const matchLabels = selector.matchLabels;
  if (matchLabels !== undefined) {
    for (const key in matchLabels) {
      if (!Object.hasOwn(matchLabels, key)) continue;
      if (!Object.hasOwn(labels, key) || labels[key] !== matchLabels[key]) return false;
    }
  }
  const expressions = selector.matchExpressions;
  if (expressions !== undefined) {
    for (const requirement of expressions) {
      if (!requirementMatches(requirement, labels)) return false;
    }
  }
  return true;
}

function requirementMatches(r: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, r.key);
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(labels[r.key] as string);
    case 'NotIn':
      return !has || !values.includes(labels[r.key] as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      throw new BouncerError('POLICY_SOURCE_INVALID', `${JSON.stringify(r.operator as string)} is not a valid label selector operator`);
  }
}

/**
 * metadata.labels as Gatekeeper reads them (Unstructured.GetLabels → NestedStringMap): a map
 * of strings, or no labels at all when it is absent or any value is not a string.
 */
export function labelsOf(metadata: Readonly<Record<string, unknown>> | undefined): Labels {
  const raw = metadata?.labels;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  for (const key in raw) {
    if (Object.hasOwn(raw, key) && typeof (raw as Record<string, unknown>)[key] !== 'string') return {};
  }
  return raw as Labels;
}
