// Policy exceptions applied to a review's outcomes: the one function admission (reviewer.ts)
// and the background audit (which reviews through the same reviewer) use, with the same
// clock rule — an exception is in force while the review's time is before its expiresAt,
// compared on every review, so an expired exception stops applying at its time with no reload.
//
// Exempted policies are evaluated, then overridden: the outcome keeps its violations and
// says what it would have been (`exemption.action`), so decisions, events and audit reports
// show what the exception hides and what will be enforced once it expires. Its action becomes
// `exempt`, which neither denies, warns nor patches. Outcomes that passed are left alone: the
// exception changed nothing. The decision cache stores outcomes before this step, so a cached
// review is exempted (or not) at its own time, never at the time it was first judged.
import type { AdmissionRequest } from '../admission/types.js';
import type { PolicyException } from '../bundles/policy-exception.js';
import type { PolicySet } from '../bundles/policy-set.js';
import { labelsOf, matchLabelSelector } from '../gatekeeper/label-selector.js';
import type { NamespaceLookup } from '../gatekeeper/types.js';
import { wildcardMatches, wildcardMatchesGenerateName } from '../gatekeeper/wildcard.js';
import type { PolicyOutcome } from './decision.js';

export interface ExemptionContext {
  /** The review's time, epoch milliseconds. */
  readonly at: number;
  /** Namespaces' labels for namespaceSelector; a Namespace it does not know matches no selector. */
  readonly namespaces: NamespaceLookup;
}

type Metadata = Readonly<Record<string, unknown>>;

function metadataOf(object: unknown): Metadata {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return {};
  const m = (object as Record<string, unknown>).metadata;
  return typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Metadata) : {};
}

const text = (m: Metadata, field: string): string => (typeof m[field] === 'string' ? (m[field] as string) : '');

/** The object the policies judge: the new one, or on DELETE the old one. */
function judgedMetadata(request: AdmissionRequest): Metadata {
  if (request.operation === 'DELETE') return request.oldObjectMetadata ?? metadataOf(request.oldObject);
  return request.objectMetadata ?? metadataOf(request.object);
}

const globs = (patterns: readonly string[], value: string): boolean => patterns.some((p) => wildcardMatches(p, value));

/** What an exception's match reads of a request, computed once per review. */
interface Subject {
  readonly request: AdmissionRequest;
  readonly meta: Metadata;
  readonly isNamespace: boolean;
  readonly name: string;
  /** '' for cluster-scoped objects and for a Namespace itself. */
  readonly namespace: string;
}

function subjectOf(request: AdmissionRequest): Subject {
  const meta = judgedMetadata(request);
  const isNamespace = request.kind.group === '' && request.kind.kind === 'Namespace';
  return { request, meta, isNamespace, name: request.name || text(meta, 'name'), namespace: isNamespace ? '' : request.namespace || text(meta, 'namespace') };
}

function matches(e: PolicyException, s: Subject, namespaces: NamespaceLookup): boolean {
  const m = e.match;
  const { request, meta, isNamespace, name, namespace } = s;
  if (m.kinds && !m.kinds.some((k) => (k.group === '*' || k.group === request.kind.group) && (k.kind === '*' || k.kind === request.kind.kind))) return false;
  if (m.namespaces && !globs(m.namespaces, isNamespace ? name : namespace)) return false;
  if (m.namespaces && !isNamespace && namespace === '') return false;
  if (m.names && !(globs(m.names, name) || (name === '' && m.names.some((p) => wildcardMatchesGenerateName(p, text(meta, 'generateName')))))) return false;
  if (m.subjects) {
    const user = request.userInfo.username ?? '';
    const groups = request.userInfo.groups ?? [];
    const sub = m.subjects;
    const hit =
      (user !== '' && globs(sub.users, user)) ||
      groups.some((g) => globs(sub.groups, g)) ||
      sub.serviceAccounts.some((sa) => user === `system:serviceaccount:${sa.replace('/', ':')}`);
    if (!hit) return false;
  }
  try {
    if (m.objectSelector && !matchLabelSelector(m.objectSelector, labelsOf(meta))) return false;
    if (m.namespaceSelector) {
      const labels = isNamespace ? labelsOf(meta) : namespace === '' ? undefined : namespaces(namespace)?.labels;
      if (labels === undefined || !matchLabelSelector(m.namespaceSelector, labels)) return false;
    }
  } catch {
    // Selectors are checked when the bundle loads; one that still cannot be evaluated exempts nothing.
    return false;
  }
  return true;
}

/**
 * Whether `e`'s match selects the request. Every given field must hold. Unlike a constraint's
 * match, `namespaces` never selects a cluster-scoped object (other than a Namespace, by its
 * own name), and a namespaceSelector whose Namespace is not known does not match: an
 * exception that cannot be decided does not apply.
 */
export function exceptionMatches(e: PolicyException, request: AdmissionRequest, namespaces: NamespaceLookup): boolean {
  return matches(e, subjectOf(request), namespaces);
}

/**
 * The outcomes with every exception in force at `ctx.at` applied: an outcome other than pass
 * whose policy an exception of the same bundle names, for a request its match selects,
 * becomes `exempt`. Pure; returns `outcomes` itself when nothing is exempted.
 */
export function exemptions(set: PolicySet, request: AdmissionRequest, outcomes: readonly PolicyOutcome[], ctx: ExemptionContext): readonly PolicyOutcome[] {
  if (!set.bundles.some((b) => b.manifest.exceptions.length > 0)) return outcomes;
  let out: PolicyOutcome[] | undefined;
  let subject: Subject | undefined;
  outcomes.forEach((o, i) => {
    if (o.action === 'pass' || o.action === 'exempt') return;
    const bundle = set.bundles.find((b) => b.name === o.bundle);
    if (!bundle) return;
    // The manifest lists exceptions by name: when two apply, the same one is always reported.
    const e = bundle.manifest.exceptions.find((x) => ctx.at < x.expiresAtMs && x.policies.includes(o.policy) && matches(x, (subject ??= subjectOf(request)), ctx.namespaces));
    if (!e) return;
    out ??= [...outcomes];
    const { patch: _patch, ...rest } = o;
    out[i] = { ...rest, action: 'exempt', exemption: { exception: e.name, expiresAt: e.expiresAt, action: o.action, ...(e.ticket ? { ticket: e.ticket } : {}) } };
  });
  return out ?? outcomes;
}

/**
 * The names of a set's exceptions in force at `at`, as one string: what an audit result
 * remembered between runs depends on besides the object and the policy set.
 */
export function exceptionsInForce(set: PolicySet, at: number): string {
  const names: string[] = [];
  for (const b of set.bundles) for (const e of b.manifest.exceptions) if (at < e.expiresAtMs) names.push(`${b.name}/${e.name}`);
  return names.join(',');
}
