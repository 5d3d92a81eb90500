// Webhook configurations rendered from the policies' scopes, so the API server only
// sends bouncer the requests some policy looks at. Defaults follow Kubernetes' webhook
// good practices: v1 reviews only, no side effects, short timeout, Equivalent matching
// (a resource reached through another group/version is still sent), reinvocation for
// mutation, and a namespace selector on the immutable kubernetes.io/metadata.name label
// so a tenant cannot opt out by labelling their namespace.
// https://kubernetes.io/docs/concepts/cluster-administration/admission-webhooks-good-practices/
import type { Endpoint } from '../admission/respond.js';
import type { Operation } from '../admission/types.js';
import type { KindMatcher, PolicyMetadata } from '../bundles/policy-metadata.js';
import { BUILTIN_RESOURCES } from './builtin-resources.js';
import { resolveScope } from './resolve-scope.js';
import type { ResourceTable } from './resource-table.js';

export type ClientConfig = { readonly url: string; readonly caBundle?: string } | { readonly service: { readonly namespace: string; readonly name: string; readonly path: string; readonly port?: number }; readonly caBundle?: string };

export interface Rule {
  readonly apiGroups: string[];
  readonly apiVersions: string[];
  readonly operations: Operation[];
  readonly resources: string[];
  readonly scope: '*';
}

export interface WebhookOptions {
  /** Name of the two configuration objects. */
  readonly name: string;
  /**
   * Webhook names are `validate.<domain>` and `mutate.<domain>` (the API server wants a
   * name with three or more dot-separated segments); they prefix the audit annotation keys.
   */
  readonly domain?: string;
  /** Client config for each endpoint (the path differs). */
  readonly clientConfig: (endpoint: Endpoint) => ClientConfig;
  readonly excludedNamespaces: readonly string[];
  /** Restrict to these namespaces instead (tests). */
  readonly includedNamespaces?: readonly string[];
  readonly validatingFailurePolicy?: 'Fail' | 'Ignore';
  readonly mutatingFailurePolicy?: 'Fail' | 'Ignore';
  readonly timeoutSeconds?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * What the target API server serves, to name resources with: the built-in table of the
   * pinned Kubernetes version by default, a cluster's discovery with `manifests --cluster`.
   */
  readonly resources?: ResourceTable;
}

/**
 * The rule resources for one kind of a resolved scope: the resource and each scoped
 * subresource it has. A kind the table does not know (a custom resource) gets every scoped
 * subresource: the API server accepts a rule for one that does not exist.
 */
function resourcesOf(kind: KindMatcher, subresources: readonly string[], table: ResourceTable): string[] {
  const base = kind.kind === '*' ? '*' : kind.resource;
  if (base === undefined) throw new Error(`unresolved kind ${kind.group}/${kind.kind}`);
  const infos = base === '*' ? [] : table.resources.filter((r) => r.resource === base && (kind.group === '*' || r.group === kind.group));
  const has = (s: string) => infos.length === 0 || infos.some((r) => r.subresources.some((x) => x.name === s));
  return subresources.filter((s) => s === '' || s === '*' || has(s)).map((s) => (s === '' ? base : `${base}/${s}`));
}

/**
 * Admission rules covering every policy with an entrypoint for `endpoint`. Scopes are
 * resolved against `table` first (an unknown kind, or a custom one without its resource,
 * throws POLICY_SOURCE_INVALID): a rule naming a resource the API server does not serve is
 * accepted and never matches.
 */
export function rulesFor(policies: readonly PolicyMetadata[], endpoint: Endpoint, table: ResourceTable = BUILTIN_RESOURCES): Rule[] {
  const byKey = new Map<string, { group: string; operations: Set<Operation>; resources: Set<string> }>();
  for (const unresolved of policies) {
    if (!unresolved.entrypoints[endpoint]) continue;
    const p = resolveScope(unresolved, table, { unresolved: 'error' });
    for (const kind of p.scope.kinds) {
      const resources = resourcesOf(kind, p.scope.subresources, table);
      const ops = endpoint === 'mutate' ? p.scope.operations.filter((o) => o === 'CREATE' || o === 'UPDATE') : p.scope.operations;
      if (ops.length === 0 || resources.length === 0) continue;
      const key = `${kind.group}|${ops.slice().sort().join(',')}`;
      const entry = byKey.get(key) ?? { group: kind.group, operations: new Set(ops), resources: new Set<string>() };
      for (const r of resources) entry.resources.add(r);
      byKey.set(key, entry);
    }
  }
  return [...byKey.values()]
    .map((e) => ({
      apiGroups: [e.group],
      apiVersions: ['*'],
      operations: [...e.operations].sort(),
      resources: [...e.resources].sort(),
      scope: '*' as const,
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function namespaceSelector(options: WebhookOptions) {
  const key = 'kubernetes.io/metadata.name';
  if (options.includedNamespaces) return { matchExpressions: [{ key, operator: 'In', values: [...options.includedNamespaces] }] };
  // The API server refuses NotIn without values: no exclusions is an empty selector (all namespaces).
  return options.excludedNamespaces.length > 0 ? { matchExpressions: [{ key, operator: 'NotIn', values: [...options.excludedNamespaces] }] } : {};
}

function webhook(options: WebhookOptions, endpoint: Endpoint, rules: Rule[]) {
  return {
    name: `${endpoint}.${options.domain ?? 'bouncer.dev'}`,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    timeoutSeconds: options.timeoutSeconds ?? 5,
    matchPolicy: 'Equivalent',
    failurePolicy: endpoint === 'validate' ? (options.validatingFailurePolicy ?? 'Fail') : (options.mutatingFailurePolicy ?? 'Ignore'),
    clientConfig: options.clientConfig(endpoint),
    namespaceSelector: namespaceSelector(options),
    rules,
    ...(endpoint === 'mutate' ? { reinvocationPolicy: 'IfNeeded' } : {}),
  };
}

export function webhookConfigurations(policies: readonly PolicyMetadata[], options: WebhookOptions) {
  const metadata = { name: options.name, ...(options.labels ? { labels: { ...options.labels } } : {}) };
  const validateRules = rulesFor(policies, 'validate', options.resources);
  const mutateRules = rulesFor(policies, 'mutate', options.resources);
  return {
    validating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata,
      webhooks: validateRules.length > 0 ? [webhook(options, 'validate', validateRules)] : [],
    },
    mutating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata,
      webhooks: mutateRules.length > 0 ? [webhook(options, 'mutate', mutateRules)] : [],
    },
  };
}
