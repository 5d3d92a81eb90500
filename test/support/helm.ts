// The pinned Helm (hack/ensure-tools.sh helm builds it into the cache) and what the chart tests
// share: rendering charts/bouncer, and the objects of a render or a kustomization compared
// after dropping what only Helm adds.
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { ensureTools, requireTool } from '../../hack/lib/tools.js';

export const CHART = 'charts/bouncer';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let helmPath: string | undefined;

/** HELM_BIN of the pinned version, else the cached build (built on first use). */
export function helmBinary(): string {
  helmPath ??= requireTool(ensureTools('helm'), 'HELM');
  return helmPath;
}

/** Runs helm with its state (config, cache, data) under `home`, so nothing of the user's is read or written. */
export function helm(args: readonly string[], options: { home: string; kubeconfig?: string; timeoutMs?: number }): RunResult {
  const result = spawnSync(helmBinary(), [...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: options.home,
      HELM_CONFIG_HOME: `${options.home}/config`,
      HELM_CACHE_HOME: `${options.home}/cache`,
      HELM_DATA_HOME: `${options.home}/data`,
      KUBECONFIG: options.kubeconfig ?? `${options.home}/no-kubeconfig`,
    },
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** `--set-json key=value` arguments for a values object, one per top-level key. */
export function setJson(values: Record<string, unknown>): string[] {
  return Object.entries(values).flatMap(([k, v]) => ['--set-json', `${k}=${JSON.stringify(v)}`]);
}

export function documents(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((d): d is K8sObject => d !== null);
}

/** The documented combinations of values (docs/helm.md): each must lint, render and apply. */
export const COMBINATIONS: Readonly<Record<string, Record<string, unknown>>> = {
  defaults: {},
  'cert-manager, own CA': { certificates: { mode: 'cert-manager' } },
  'cert-manager, existing ClusterIssuer': { certificates: { mode: 'cert-manager', certManager: { issuerRef: { kind: 'ClusterIssuer', name: 'corp-ca' } } } },
  monitoring: {
    monitoring: {
      serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
      prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
      dashboards: { enabled: true },
    },
  },
  'decision log': { decisionLog: { url: 'https://decisions.example.com:8443/logs', input: true, mask: ['/spec/token'], spoolMaxMb: 128 } },
  'fail open, more exclusions': { webhooks: { validating: { failurePolicy: 'Ignore' }, timeoutSeconds: 10, excludedNamespaces: ['kube-system', 'kube-node-lease', 'istio-system'] } },
  tuned: { logLevel: 'debug', extraArgs: ['--policy-timeout=500ms', '--workers=2'], resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '2', memory: '768Mi' } }, audit: { interval: '30m' } },
  'audit off': { audit: { enabled: false } },
  'wgpolicyk8s reports': { audit: { reports: 'wgpolicyk8s', reportCRDs: { openreports: false, wgpolicyk8s: true } } },
  'bundles elsewhere': { bundles: { watchNamespace: 'bouncer-bundles', require: ['baseline', 'tenants'] } },
  'custom policies': {
    webhooks: { validating: { rules: [{ apiGroups: ['networking.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['ingresses'], scope: '*' }] } },
    inventory: { extraRules: [{ apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch'] }] },
    audit: { extraRules: [{ apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['list'] }] },
  },
  minimal: { networkPolicy: { enabled: false }, podDisruptionBudget: { enabled: false }, priorityClass: { create: false, name: '' }, uninstallHook: { enabled: false }, replicas: 1 },
  'pinned image': { image: { repository: 'registry.example.com/bouncer', digest: `sha256:${'ab'.repeat(32)}` }, imagePullSecrets: [{ name: 'registry' }] },
};

/** Helm's own labels and annotations, which manifests/ does not carry. */
const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance', 'app.kubernetes.io/version'];
const HELM_ANNOTATIONS = ['helm.sh/resource-policy'];

function strip(meta: { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined): void {
  if (!meta) return;
  for (const [field, keys] of [['labels', HELM_LABELS], ['annotations', HELM_ANNOTATIONS]] as const) {
    const map = meta[field];
    if (!map) continue;
    for (const k of keys) delete map[k];
    if (Object.keys(map).length === 0) delete meta[field];
  }
}

/** An object without Helm's labels and annotations (on it and on a pod template), for comparison with manifests/. */
export function normalised(object: K8sObject): K8sObject {
  const copy = structuredClone(object);
  strip(copy.metadata);
  strip((copy.spec as { template?: { metadata?: K8sObject['metadata'] } } | undefined)?.template?.metadata);
  return copy;
}

export const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Objects by kind/namespace/name, normalised; hooks (the uninstall Job and its RBAC) left out. */
export function byKey(objects: readonly K8sObject[]): Map<string, K8sObject> {
  return new Map(objects.filter((o) => !o.metadata.annotations?.['helm.sh/hook']).map((o) => [key(o), normalised(o)]));
}
