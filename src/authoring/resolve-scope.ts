// A policy scope checked against a resource table and completed with each kind's resource
// (plural), so the webhook rules rendered from it and the matching at review time use the
// names the API server uses. A kind the table does not know in a group it serves (wrong
// case, a plural written as a kind, a missing group), a subresource none of the kinds has,
// or operations that never reach a scoped subresource are errors that say what to write:
// each would be a policy the API server never sends a request to.
import type { Operation } from '../admission/types.js';
import { formatKind, type KindMatcher, type PolicyMetadata } from '../bundles/policy-metadata.js';
import { BouncerError } from '../errors/errors.js';
import { groupsOf, kindName, lookupKind, lookupResource, suggestKinds, type ResourceInfo, type ResourceTable } from './resource-table.js';

export interface ResolveOptions {
  /**
   * A custom kind given without its resource: 'keep' it (bouncer build: matched on the
   * request's kind; `bouncer manifests --cluster` finds the plural), or 'error' (rendering
   * rules without a cluster, where the plural cannot be known).
   */
  readonly unresolved: 'keep' | 'error';
}

/** Subresources whose requests carry the resource's own kind, so an unresolved kind still matches them. */
const OWN_KIND_SUBRESOURCES = new Set(['', 'status']);
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/**
 * Kinds the API server never sends to admission webhooks, whatever the rules say
 * (IsExemptAdmissionConfigurationResource in k8s.io/apiserver
 * pkg/admission/plugin/webhook/predicates/rules/rules.go, v0.35.4): a policy on them is
 * never called.
 */
const NEVER_SENT = new Set(
  ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding'].map(
    (k) => `admissionregistration.k8s.io/${k}`,
  ),
);

function invalid(id: string, message: string): BouncerError {
  return new BouncerError('POLICY_SOURCE_INVALID', `policy ${id}: ${message}`);
}

function didYouMean(suggestions: readonly string[]): string {
  return suggestions.length > 0 ? `; did you mean ${suggestions.slice(0, 3).join(' or ')}?` : '';
}

/** How to write `k` as a custom resource (CRD groups always contain a dot). */
function customHint(k: KindMatcher): string {
  return ` (a custom resource is written {kind: ${formatKind({ group: k.group.includes('.') ? k.group : 'example.com', kind: k.kind })}, resource: <plural>})`;
}

/** The one resource a written kind names in the table, or undefined for a custom kind. */
function resolveKind(id: string, k: KindMatcher, table: ResourceTable, options: ResolveOptions): KindMatcher {
  const written = JSON.stringify(formatKind(k));
  const groups = groupsOf(table);
  if (k.kind === '*') {
    if (k.group !== '*' && !groups.has(k.group) && !k.group.includes('.')) throw invalid(id, `scope.kinds ${written}: unknown API group "${k.group}"${didYouMean([...groups].filter((g) => g.startsWith(k.group.slice(0, 3)) && g !== '').map((g) => `${g}/*`))}`);
    return k;
  }
  if (NEVER_SENT.has(formatKind(k))) throw invalid(id, `scope.kinds ${written}: the API server never sends requests for ${k.kind} objects to admission webhooks, so this policy would never be called`);
  if (!KIND.test(k.kind)) throw invalid(id, `scope.kinds ${written}: a kind is written as the API writes it (UpperCamelCase, singular)${didYouMean(suggestKinds(table, k.group, k.kind))}`);
  const found = lookupKind(table, k.group, k.kind);
  if (found.length > 0) {
    const plurals = [...new Set(found.map((r) => r.resource))];
    if (plurals.length > 1) throw invalid(id, `scope.kinds ${written} is served as ${plurals.join(' and ')}: write the group`);
    const resource = plurals[0] as string;
    if (k.resource !== undefined && k.resource !== resource) throw invalid(id, `scope.kinds ${written}: its resource is ${resource} (${table.source}), not ${k.resource}`);
    return { ...k, resource };
  }
  if (k.resource !== undefined) {
    const owner = k.group === '*' ? undefined : lookupResource(table, k.group, k.resource);
    if (owner) throw invalid(id, `scope.kinds ${written}: ${k.resource} is the resource of ${kindName(owner)}${didYouMean([kindName(owner)])}`);
    // A kind of a group this table serves but not this kind: a custom or newer API the author named exactly.
    return k;
  }
  const builtinGroup = k.group === '' || groups.has(k.group) || (k.group !== '*' && !k.group.includes('.'));
  if (builtinGroup || k.group === '*') {
    const where = k.group === '' ? 'in the core group' : k.group === '*' ? 'in any group' : `in group ${k.group}`;
    const suggestions = suggestKinds(table, k.group === '' ? '*' : k.group, k.kind);
    throw invalid(id, `scope.kinds ${written}: ${table.source} serves no kind ${k.kind} ${where}${suggestions.length > 0 ? didYouMean(suggestions) : customHint(k)}`);
  }
  if (options.unresolved === 'error') {
    throw invalid(
      id,
      `scope.kinds ${written} is not a built-in kind of ${table.source}, so its resource cannot be known: give it in the scope as {kind: ${formatKind(k)}, resource: <plural>} (the NAME column of \`kubectl api-resources\`), or render with --cluster to read it from the cluster's discovery`,
    );
  }
  return k;
}

function ops(list: readonly Operation[]): string {
  return list.join(', ');
}

/** What each scoped subresource of each resolved kind allows; errors for those no request can reach. */
function checkSubresources(id: string, meta: PolicyMetadata, kinds: readonly KindMatcher[], table: ResourceTable): void {
  // An explicitly empty kind list is a policy switched off on purpose.
  if (kinds.length === 0) return;
  const known: ResourceInfo[] = [];
  let unknown = false;
  for (const k of kinds) {
    const infos = k.resource === undefined ? [] : table.resources.filter((r) => r.resource === k.resource && (k.group === '*' || r.group === k.group));
    if (infos.length === 0) unknown = true;
    known.push(...infos);
    if (k.kind !== '*' && k.resource === undefined) {
      const other = meta.scope.subresources.filter((s) => !OWN_KIND_SUBRESOURCES.has(s));
      if (other.length > 0) {
        throw invalid(id, `scope.kinds ${JSON.stringify(formatKind(k))} has no resource, so requests to its ${other.map((s) => `"${s}"`).join(', ')} subresource (which carry another kind) cannot be matched: give it as {kind: ${formatKind(k)}, resource: <plural>}`);
      }
    }
  }
  for (const s of meta.scope.subresources) {
    if (s === '*') continue;
    const reaching = known.flatMap((r) => {
      if (s === '') return [{ name: r.resource, operations: r.operations }];
      const sub = r.subresources.find((x) => x.name === s);
      return sub ? [{ name: `${r.resource}/${s}`, operations: sub.operations }] : [];
    });
    if (reaching.length === 0) {
      if (unknown) continue;
      const owners = table.resources.filter((r) => r.subresources.some((x) => x.name === s)).map(kindName);
      throw invalid(
        id,
        `scope.subresources "${s}": none of the scoped kinds (${kinds.map(formatKind).join(', ')}) has it in ${table.source}` +
          (owners.length > 0 ? `; it exists on ${owners.slice(0, 6).join(', ')}${owners.length > 6 ? ', …' : ''}` : ''),
      );
    }
    if (!reaching.some((r) => r.operations.some((o) => meta.scope.operations.includes(o)))) {
      const needed = [...new Set(reaching.flatMap((r) => r.operations))];
      if (needed.length === 0) throw invalid(id, `scope.subresources "${s}": ${reaching.map((r) => r.name).join(', ')} can only be read, and reads are not sent to admission webhooks`);
      throw invalid(
        id,
        `scope.subresources "${s}": ${reaching.map((r) => r.name).join(', ')} ${reaching.length > 1 ? 'are' : 'is'} reached only by ${ops(needed)}, and scope.operations is [${ops(meta.scope.operations)}]: add ${ops(needed)}`,
      );
    }
  }
}

/**
 * Requests for a cluster-scoped resource have no namespace, so namespaces.include never
 * matches them. (Namespaces are left out: an update of one carries its own name as the
 * request's namespace, a create none.)
 */
function checkNamespaces(id: string, meta: PolicyMetadata, kinds: readonly KindMatcher[], table: ResourceTable): void {
  if (!meta.scope.namespaces.include || kinds.length === 0) return;
  const infos = kinds.map((k) => (k.resource === undefined ? undefined : table.resources.find((r) => r.resource === k.resource && (k.group === '*' || r.group === k.group))));
  if (infos.every((r) => r !== undefined && !r.namespaced && !(r.group === '' && r.resource === 'namespaces'))) {
    throw invalid(id, `scope.namespaces.include: ${kinds.map(formatKind).join(', ')} ${kinds.length > 1 ? 'are' : 'is'} cluster-scoped, so no request for ${kinds.length > 1 ? 'them' : 'it'} has a namespace: drop the include`);
  }
}

/** The metadata with every kind of its scope resolved against `table` (see the file comment). */
export function resolveScope(meta: PolicyMetadata, table: ResourceTable, options: ResolveOptions): PolicyMetadata {
  const kinds = meta.scope.kinds.map((k) => resolveKind(meta.id, k, table, options));
  checkSubresources(meta.id, meta, kinds, table);
  checkNamespaces(meta.id, meta, kinds, table);
  return { ...meta, scope: { ...meta.scope, kinds } };
}
