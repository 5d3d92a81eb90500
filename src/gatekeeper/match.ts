// A constraint's spec.match decided before evaluation, as Gatekeeper decides it
// (pkg/mutation/match/match.go Matches, driven by pkg/target/matcher.go Matcher.Match), so a
// constraint that does not match costs nothing. Differences, each on the side of fewer
// wrong answers (docs/gatekeeper.md "Match and enforcement actions"):
// - namespaceSelector is checked last, so a Namespace that is not known is an error only when
//   the answer depends on its labels (Gatekeeper checks it before name and source);
// - on UPDATE a match of either object wins over an error from the other (Gatekeeper stops at
//   the first error, new object first).
import type { AdmissionRequest, Operation } from '../admission/types.js';
import { describeThrown } from '../errors/errors.js';
import { labelsOf, matchLabelSelector } from './label-selector.js';
import type { ConstraintMatch, MatchResult, MatchSubject, NamespaceLookup } from './types.js';
import { wildcardMatches, wildcardMatchesGenerateName } from './wildcard.js';

export { matchLabelSelector } from './label-selector.js';

const MATCHED: MatchResult = Object.freeze({ matched: true });
const NOT_MATCHED: MatchResult = Object.freeze({ matched: false });

type Metadata = Readonly<Record<string, unknown>>;

/**
 * Whether `match` selects `subject`. The whole match is tried on each object of the request
 * (Gatekeeper's matchAny): the new object and, when given, the old one — so on UPDATE an
 * object that leaves a selector (a removed label, a renamed object) is still matched by its
 * old self; on DELETE the old object is the object. The request's Namespace is looked up only
 * when namespaceSelector needs its labels; when `namespaces` does not know it the result is
 * `{ error }` with Gatekeeper's wording, never a silent non-match (see unableToMatchMessage).
 */
export function matchConstraint(match: ConstraintMatch, subject: MatchSubject, namespaces: NamespaceLookup): MatchResult {
  let error: string | undefined;
  for (const metadata of objectsToMatch(subject)) {
    const result = matchObject(match, subject, metadata, namespaces);
    if (result === true) return MATCHED;
    if (typeof result === 'string') error ??= result;
  }
  return error === undefined ? NOT_MATCHED : { error };
}

/**
 * The message a constraint whose match failed is reported with (frameworks' ErrAutoreject,
 * constraint/pkg/client/errors/errors.go): Gatekeeper's webhook denies with
 * `[<constraint>] unable to match constraints: <error>` under the constraint's action.
 */
export function unableToMatchMessage(error: string): string {
  return `unable to match constraints: ${error}`;
}

/** The metadata of each object the match is tried on: DELETE has only the old object. */
function objectsToMatch(subject: MatchSubject): readonly Metadata[] {
  if (subject.operation === 'DELETE') return [subject.oldObjectMetadata ?? subject.objectMetadata ?? {}];
  const objects = [subject.objectMetadata, subject.oldObjectMetadata].filter((m): m is Metadata => m !== undefined);
  // An object without metadata (a CONNECT's PodExecOptions) still matches as one with no
  // name and no labels, as Gatekeeper's unstructured object does.
  return objects.length > 0 ? objects : [{}];
}

/** true, false, or the reason the match could not be decided. */
function matchObject(match: ConstraintMatch, subject: MatchSubject, metadata: Metadata, namespaces: NamespaceLookup): boolean | string {
  const isNamespace = subject.kind.group === '' && subject.kind.kind === 'Namespace';
  const name = stringField(metadata, 'name');
  // The namespace the object lives in ('' for cluster-scoped): the request's, else the one the
  // object declares (gator, audit). A Namespace's request namespace is ignored: server-side
  // apply sets it to the Namespace's own name (Gatekeeper's createReviewForRequest, issue #792).
  const namespace = (isNamespace ? '' : (subject.namespace ?? '')) || stringField(metadata, 'namespace');
  // A Namespace object is matched by namespaces/excludedNamespaces under its own name.
  const namespaceName = isNamespace ? name : namespace;
  const inNamespaceOrIsOne = isNamespace || namespace !== '';

  if (!kindsMatch(match, subject.kind)) return false;
  if (!scopeMatches(match, isNamespace, namespace !== '')) return false;
  // Cluster-scoped objects other than Namespaces are never excluded nor left out by these.
  if (match.namespaces !== undefined && match.namespaces.length > 0 && inNamespaceOrIsOne) {
    if (!match.namespaces.some((p) => wildcardMatches(p, namespaceName))) return false;
  }
  if (match.excludedNamespaces !== undefined && inNamespaceOrIsOne) {
    if (match.excludedNamespaces.some((p) => wildcardMatches(p, namespaceName))) return false;
  }
  const labels = labelsOf(metadata);
  try {
    if (match.labelSelector !== undefined && !matchLabelSelector(match.labelSelector, labels)) return false;
    // A blank name is "any name", as Gatekeeper reads an unset wildcard.
    if (match.name !== undefined && match.name !== '') {
      if (!wildcardMatches(match.name, name) && !wildcardMatchesGenerateName(match.name, stringField(metadata, 'generateName'))) return false;
    }
    // bouncer reviews only the objects it is sent (Gatekeeper's Original); it expands no generators.
    if (match.source === 'Generated') return false;
    if (match.namespaceSelector === undefined) return true;
    // A Namespace is selected by its own labels (the new ones, or on UPDATE the old ones).
    if (isNamespace) return matchLabelSelector(match.namespaceSelector, labels);
    if (namespace === '') return true;
    const info = namespaces(namespace);
    if (info === undefined) return matchError(name, 'namespace selector for namespace-scoped object but missing Namespace');
    return matchLabelSelector(match.namespaceSelector, info.labels);
  } catch (err) {
    return matchError(name, describeThrown(err));
  }
}

/** Gatekeeper's wording: ErrMatching (pkg/target/matcher.go matchAny) around ErrMatch (match.go). */
function matchError(name: string, reason: string): string {
  return `error matching the requested object: ${name} :failed to run Match criteria: ${reason}`;
}

/** kinds: any entry whose kinds and apiGroups both match; an empty list (or `*`) matches all. */
function kindsMatch(match: ConstraintMatch, kind: MatchSubject['kind']): boolean {
  if (match.kinds === undefined || match.kinds.length === 0) return true;
  return match.kinds.some(
    (k) => (k.kinds.length === 0 || k.kinds.includes('*') || k.kinds.includes(kind.kind)) && (k.apiGroups.length === 0 || k.apiGroups.includes('*') || k.apiGroups.includes(kind.group)),
  );
}

/** scope: a Namespace object counts as cluster-scoped; anything but Cluster/Namespaced is `*`. */
function scopeMatches(match: ConstraintMatch, isNamespace: boolean, hasNamespace: boolean): boolean {
  switch (match.scope) {
    case 'Cluster':
      return isNamespace || !hasNamespace;
    case 'Namespaced':
      return !isNamespace && hasNamespace;
    default:
      return true;
  }
}

function stringField(metadata: Metadata, field: string): string {
  const value = metadata[field];
  return typeof value === 'string' ? value : '';
}

function metadataOf(object: unknown): Metadata | undefined {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return undefined;
  const metadata = (object as Record<string, unknown>).metadata;
  return typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? (metadata as Metadata) : {};
}

/**
 * The MatchSubject of a plain object (gator suites, audit, `bouncer review` of objects):
 * kind from apiVersion/kind, namespace and name from its metadata. With operation DELETE the
 * object is the old object, as Gatekeeper's AugmentedUnstructured (pkg/target/target.go).
 */
export function matchSubjectFromObject(object: unknown, operation?: Operation): MatchSubject {
  const o = typeof object === 'object' && object !== null && !Array.isArray(object) ? (object as Record<string, unknown>) : {};
  const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const slash = apiVersion.indexOf('/');
  const metadata = metadataOf(o) ?? {};
  return {
    kind: { group: slash < 0 ? '' : apiVersion.slice(0, slash), kind: typeof o.kind === 'string' ? o.kind : '' },
    ...(operation === undefined ? {} : { operation }),
    namespace: stringField(metadata, 'namespace'),
    name: stringField(metadata, 'name'),
    ...(operation === 'DELETE' ? { oldObjectMetadata: metadata } : { objectMetadata: metadata }),
  };
}

/**
 * The MatchSubject of an admission request: request.kind, operation, namespace and name, and
 * the metadata of object and oldObject (an object present without metadata counts as `{}`).
 */
export function matchSubjectFromRequest(request: AdmissionRequest): MatchSubject {
  const objectMetadata = request.objectMetadata ?? metadataOf(request.object);
  const oldObjectMetadata = request.oldObjectMetadata ?? metadataOf(request.oldObject);
  return {
    kind: { group: request.kind.group, kind: request.kind.kind },
    operation: request.operation,
    ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
    ...(request.name === undefined ? {} : { name: request.name }),
    ...(objectMetadata === undefined ? {} : { objectMetadata }),
    ...(oldObjectMetadata === undefined ? {} : { oldObjectMetadata }),
  };
}
