// The benchmark corpus: AdmissionReview v1 requests shaped as the API server sends them
// (defaulted objects, managedFields, kubectl's last-applied annotation, userInfo with
// groups and extra, options), deterministic for a seed.
//
// Kinds: Pods, apps/v1 Deployments, batch/v1 CronJobs, ConfigMaps, and a large custom
// resource (monitoring.coreos.com/v1 PrometheusRule). CREATE reviews have
// oldObject: null; UPDATE reviews carry the previous object (a changed image or data),
// so an UPDATE is about twice the size of its object.
//
// Most objects comply with the starter policies (policies/); a seeded fraction of the
// workload objects violates one deny-enforced policy (privileged container, registry
// not allowed, latest tag, hostPath volume, host network), and some trip only warn- or
// dryrun-enforced ones (missing limits, missing owner label), which are still allowed.
import { Buffer } from 'node:buffer';

export type CorpusKind = 'Pod' | 'Deployment' | 'CronJob' | 'ConfigMap' | 'PrometheusRule';
export type Operation = 'CREATE' | 'UPDATE';

/** What the generator meant the object to be (the starter set's expected decision follows from it). */
export type Intent =
  | 'compliant'
  | 'warn-missing-limits'
  | 'dryrun-missing-owner'
  | 'deny-privileged'
  | 'deny-registry'
  | 'deny-latest-tag'
  | 'deny-host-path'
  | 'deny-host-network';

export interface CorpusItem {
  readonly index: number;
  readonly kind: CorpusKind;
  readonly operation: Operation;
  readonly intent: Intent;
  /** The AdmissionReview as sent on the wire (UTF-8 JSON). */
  readonly body: Buffer;
}

/**
 * mixed:  the realistic mix (Pods 35 %, Deployments 25 %, CronJobs 10 %, ConfigMaps 20 %,
 *         PrometheusRules 10 %), review sizes 2-100 KB (log-uniform within each kind's range).
 * small:  workload reviews (Pod, Deployment, CronJob) of about 2 KB.
 * medium: workload reviews of about 5 KB.
 * large:  workload reviews of about 100 KB (UPDATEs of big Deployments and Pods).
 */
export type CorpusProfile = 'mixed' | 'small' | 'medium' | 'large';

export interface CorpusOptions {
  readonly profile: CorpusProfile;
  readonly count: number;
  readonly seed?: number;
  /** Fraction of workload objects that violate a deny-enforced policy (default 0.1). */
  readonly violating?: number;
}

export const DEFAULT_SEED = 20_251_128;

// --- deterministic randomness ----------------------------------------------------

export interface Rng {
  (): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  hex(n: number): string;
  word(): string;
}

/** mulberry32: small, fast, and the same sequence on every platform for a seed. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as Rng;
  next.int = (min, max) => min + Math.floor(next() * (max - min + 1));
  next.pick = (items) => items[Math.floor(next() * items.length)] as (typeof items)[number];
  next.chance = (p) => next() < p;
  next.hex = (n) => {
    let s = '';
    while (s.length < n) s += Math.floor(next() * 16).toString(16);
    return s;
  };
  next.word = () => next.pick(WORDS);
  return next;
}

const WORDS = [
  'api', 'web', 'worker', 'billing', 'search', 'orders', 'payments', 'auth', 'ingest', 'report', 'cache', 'gateway',
  'metrics', 'catalog', 'inventory', 'notify', 'ledger', 'profile', 'session', 'export', 'scheduler', 'frontend',
];
const TEAMS = ['team-a', 'team-b', 'platform', 'data', 'payments', 'growth'];
const NAMESPACES = ['team-a', 'team-b', 'platform', 'data', 'payments', 'growth', 'default'];
const COMPLIANT_IMAGES = [
  'registry.k8s.io/pause:3.10',
  'ghcr.io/acme/api:1.4.2',
  'ghcr.io/acme/worker:2.0.1',
  'quay.io/prometheus/node-exporter:v1.8.2',
  'docker.io/library/nginx:1.27.3',
  'nginx:1.27',
  'redis:7.4.1',
  'quay.io/jetstack/cert-manager-controller:v1.16.2',
  'registry.k8s.io/ingress-nginx/controller:v1.12.0',
];

function uuid(rng: Rng): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function digestImage(rng: Rng): string {
  return `ghcr.io/acme/${rng.word()}@sha256:${rng.hex(64)}`;
}

function timestamp(rng: Rng): string {
  const d = new Date(Date.UTC(2025, rng.int(0, 10), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59), rng.int(0, 59)));
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

// --- object parts ----------------------------------------------------------------

type Json = Record<string, unknown>;

function envVars(rng: Rng, n: number): Json[] {
  const out: Json[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${rng.word().toUpperCase()}_${rng.word().toUpperCase()}_${i}`;
    out.push(
      rng.chance(0.2)
        ? { name, valueFrom: { configMapKeyRef: { name: `${rng.word()}-config`, key: rng.word() } } }
        : { name, value: rng.chance(0.5) ? `https://${rng.word()}.${rng.pick(NAMESPACES)}.svc.cluster.local:${rng.int(1024, 9999)}/${rng.word()}` : rng.hex(rng.int(4, 24)) },
    );
  }
  return out;
}

interface ContainerOptions {
  /** Lean objects (small reviews) leave out probes, mounts and most defaulted fields. */
  readonly lean: boolean;
  readonly image: string;
  readonly limits: boolean;
  readonly privileged: boolean;
  readonly env: number;
}

function container(rng: Rng, name: string, o: ContainerOptions): Json {
  const port = rng.int(1024, 9999);
  const resources = o.limits
    ? { limits: { cpu: `${rng.int(1, 4) * 250}m`, memory: `${rng.int(1, 8) * 128}Mi` }, requests: { cpu: '100m', memory: '128Mi' } }
    : { requests: { cpu: '100m', memory: '128Mi' } };
  if (o.lean) {
    return {
      name,
      image: o.image,
      ports: [{ containerPort: port, protocol: 'TCP' }],
      env: envVars(rng, o.env),
      resources,
      securityContext: o.privileged ? { privileged: true } : { allowPrivilegeEscalation: false, runAsNonRoot: true },
    };
  }
  return {
    name,
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    args: [`--port=${port}`, `--log-level=${rng.pick(['info', 'debug', 'warn'])}`],
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    env: envVars(rng, o.env),
    resources,
    readinessProbe: { httpGet: { path: '/readyz', port, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/healthz', port, scheme: 'HTTP' }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    volumeMounts: [{ name: 'config', mountPath: '/etc/app', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }],
    securityContext: o.privileged
      ? { privileged: true }
      : { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
}

/** How a workload object is built; `violation` picks the deny-enforced policy it breaks. */
interface WorkloadShape {
  readonly lean: boolean;
  readonly containers: number;
  readonly env: number;
  readonly initContainer: boolean;
  readonly intent: Intent;
}

function podSpec(rng: Rng, app: string, shape: WorkloadShape, restartPolicy: string): Json {
  const intent = shape.intent;
  const containers: Json[] = [];
  const victim = rng.int(0, shape.containers - 1);
  for (let i = 0; i < shape.containers; i++) {
    let image = rng.chance(0.15) ? digestImage(rng) : rng.pick(COMPLIANT_IMAGES);
    if (i === victim && intent === 'deny-registry') image = `${rng.pick(['evil.example.com', 'registry.k8s.io.evil.example', 'registry.k8s.io:5000'])}/${rng.word()}:1.0`;
    if (i === victim && intent === 'deny-latest-tag') image = rng.pick(['nginx:latest', 'nginx', 'ghcr.io/acme/api:latest']);
    containers.push(
      container(rng, i === 0 ? app : `${app}-${rng.word()}-${i}`, {
        lean: shape.lean,
        image,
        limits: !(i === victim && intent === 'warn-missing-limits'),
        privileged: i === victim && intent === 'deny-privileged',
        env: shape.env,
      }),
    );
  }
  const volumes = [
    ...(shape.lean ? [] : [{ name: 'config', configMap: { name: `${app}-config`, defaultMode: 420 } }, { name: 'tmp', emptyDir: {} }]),
    ...(intent === 'deny-host-path' ? [{ name: 'host-logs', hostPath: { path: '/var/log', type: 'Directory' } }] : []),
  ];
  if (shape.lean) {
    return {
      containers,
      restartPolicy,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      ...(volumes.length > 0 ? { volumes } : {}),
      ...(intent === 'deny-host-network' ? { hostNetwork: true } : {}),
    };
  }
  const spec: Json = {
    containers,
    restartPolicy,
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: app,
    serviceAccount: app,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, fsGroup: 2000 },
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    volumes,
    ...(intent === 'deny-host-network' ? { hostNetwork: true } : {}),
  };
  if (shape.initContainer) {
    spec.initContainers = [container(rng, 'init', { lean: false, image: 'registry.k8s.io/pause:3.10', limits: true, privileged: false, env: 2 })];
  }
  return spec;
}

function managedFields(rng: Rng, manager: string, keys: readonly string[]): Json[] {
  // The shape kubectl and controllers leave: fieldsV1 sets of the fields they own.
  const fields: Json = {};
  for (const k of keys) fields[`f:${k}`] = { '.': {}, [`f:${rng.word()}`]: {}, [`f:${rng.word()}`]: {} };
  return [
    { manager, operation: 'Update', apiVersion: 'v1', time: timestamp(rng), fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:owner': {} } }, 'f:spec': fields } },
  ];
}

function metadata(rng: Rng, name: string, namespace: string, labels: Json, extra: Json = {}): Json {
  return {
    name,
    namespace,
    uid: uuid(rng),
    resourceVersion: String(rng.int(100_000, 9_999_999)),
    generation: rng.int(1, 40),
    creationTimestamp: timestamp(rng),
    labels,
    ...extra,
  };
}

function labelsFor(rng: Rng, app: string, owner: boolean): Json {
  return {
    app,
    'app.kubernetes.io/name': app,
    'app.kubernetes.io/part-of': rng.word(),
    'app.kubernetes.io/version': `${rng.int(0, 9)}.${rng.int(0, 40)}.${rng.int(0, 9)}`,
    ...(owner ? { owner: rng.pick(TEAMS) } : {}),
  };
}

// --- kinds ---------------------------------------------------------------------

interface Built {
  readonly object: Json;
  /** Recomputes derived fields (kubectl's last-applied annotation) after the object grew. */
  readonly finish: () => void;
  /** A version of the object as it was before an update (for UPDATE reviews). */
  readonly previous: () => Json;
}

function leanMetadata(rng: Rng, name: string, namespace: string, labels: Json): Json {
  return { name, namespace, uid: uuid(rng), creationTimestamp: timestamp(rng), labels };
}

function pod(rng: Rng, shape: WorkloadShape, namespace: string): Built {
  const app = `${rng.word()}-${rng.word()}`;
  const name = `${app}-${rng.hex(10)}-${rng.hex(5)}`;
  const labels = shape.lean ? { app, owner: rng.pick(TEAMS) } : labelsFor(rng, app, true);
  const object: Json = shape.lean
    ? { apiVersion: 'v1', kind: 'Pod', metadata: leanMetadata(rng, name, namespace, labels), spec: podSpec(rng, app, shape, 'Always') }
    : {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          ...metadata(rng, name, namespace, labels),
          generateName: `${app}-${rng.hex(10)}-`,
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-${rng.hex(10)}`, uid: uuid(rng), controller: true, blockOwnerDeletion: true }],
          managedFields: managedFields(rng, 'kube-controller-manager', ['containers', 'volumes', 'securityContext']),
        },
        spec: { ...podSpec(rng, app, shape, 'Always'), nodeName: `node-${rng.int(1, 40)}` },
        status: { phase: 'Pending', qosClass: 'Burstable' },
      };
  return { object, finish: () => undefined, previous: () => withChangedImage(rng, object, ['spec']) };
}

function lastApplied(object: Json): string {
  const { metadata: m, spec } = object as { metadata: Json; spec: unknown };
  return JSON.stringify({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: m.name, namespace: m.namespace, labels: m.labels }, spec });
}

function deployment(rng: Rng, shape: WorkloadShape, namespace: string): Built {
  const app = `${rng.word()}-${rng.word()}`;
  const owner = shape.intent !== 'dryrun-missing-owner';
  const labels = shape.lean ? { app, ...(owner ? { owner: rng.pick(TEAMS) } : {}) } : labelsFor(rng, app, owner);
  const template = { metadata: { labels: { app } }, spec: podSpec(rng, app, shape, 'Always') };
  if (shape.lean) {
    const object: Json = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: leanMetadata(rng, app, namespace, labels),
      spec: { replicas: rng.int(1, 12), selector: { matchLabels: { app } }, template },
    };
    return { object, finish: () => undefined, previous: () => withChangedImage(rng, object, ['spec', 'template', 'spec']) };
  }
  const object: Json = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...metadata(rng, app, namespace, labels, { annotations: { 'deployment.kubernetes.io/revision': String(rng.int(1, 30)) } }),
      managedFields: managedFields(rng, 'kubectl-client-side-apply', ['replicas', 'selector', 'strategy', 'template']),
    },
    spec: {
      replicas: rng.int(1, 12),
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template,
    },
    status: { observedGeneration: rng.int(1, 40), replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3 },
  };
  // kubectl apply keeps the whole applied spec in an annotation: a Deployment is about twice its spec.
  const finish = () => {
    const annotations = (object.metadata as Json).annotations as Json;
    annotations['kubectl.kubernetes.io/last-applied-configuration'] = lastApplied(object);
  };
  finish();
  return { object, finish, previous: () => withChangedImage(rng, object, ['spec', 'template', 'spec']) };
}

function cronJob(rng: Rng, shape: WorkloadShape, namespace: string): Built {
  const app = `${rng.word()}-${rng.word()}`;
  const owner = shape.intent !== 'dryrun-missing-owner';
  const labels = shape.lean ? { app, ...(owner ? { owner: rng.pick(TEAMS) } : {}) } : labelsFor(rng, app, owner);
  const object: Json = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: shape.lean
      ? leanMetadata(rng, app, namespace, labels)
      : { ...metadata(rng, app, namespace, labels), managedFields: managedFields(rng, 'kubectl-client-side-apply', ['schedule', 'jobTemplate']) },
    spec: {
      schedule: `${rng.int(0, 59)} ${rng.int(0, 23)} * * *`,
      concurrencyPolicy: 'Forbid',
      ...(shape.lean ? {} : { suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 }),
      jobTemplate: {
        spec: {
          ...(shape.lean ? {} : { backoffLimit: 6, completionMode: 'NonIndexed' }),
          template: { metadata: { labels: { app } }, spec: podSpec(rng, app, shape, 'OnFailure') },
        },
      },
    },
  };
  return { object, finish: () => undefined, previous: () => withChangedImage(rng, object, ['spec', 'jobTemplate', 'spec', 'template', 'spec']) };
}

function configMap(rng: Rng, namespace: string): Built {
  const app = `${rng.word()}-${rng.word()}`;
  const object: Json = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...metadata(rng, `${app}-config`, namespace, labelsFor(rng, app, true)), managedFields: managedFields(rng, 'kubectl-client-side-apply', ['data']) },
    data: { 'app.yaml': `server:\n  port: ${rng.int(1024, 9999)}\nlog:\n  level: info\n` },
  };
  return {
    object,
    finish: () => undefined,
    previous: () => {
      const old = structuredClone(object);
      (old.data as Json)['app.yaml'] = `server:\n  port: ${rng.int(1024, 9999)}\nlog:\n  level: debug\n`;
      return old;
    },
  };
}

function prometheusRule(rng: Rng, namespace: string): Built {
  const app = `${rng.word()}-${rng.word()}`;
  const object: Json = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { ...metadata(rng, `${app}-rules`, namespace, labelsFor(rng, app, true)), managedFields: managedFields(rng, 'helm', ['groups']) },
    spec: { groups: [] as Json[] },
  };
  return {
    object,
    finish: () => undefined,
    previous: () => {
      const old = structuredClone(object);
      const groups = (old.spec as { groups: Json[] }).groups;
      if (groups[0]) groups[0].interval = '1m';
      return old;
    },
  };
}

function withChangedImage(rng: Rng, object: Json, specPath: readonly string[]): Json {
  const old = structuredClone(object);
  let spec: Json = old;
  for (const key of specPath) spec = spec[key] as Json;
  const first = (spec.containers as Json[])[0] as Json;
  first.image = rng.pick(COMPLIANT_IMAGES);
  const meta = old.metadata as Json;
  if (meta.resourceVersion !== undefined) meta.resourceVersion = String(Number(meta.resourceVersion) - rng.int(1, 1000));
  return old;
}

// --- growing an object to a target size -----------------------------------------

/** Adds realistic bulk (env vars, data keys, alert rules) until the object, finished, reaches `bytes`. */
function grow(rng: Rng, kind: CorpusKind, built: Built, bytes: number): void {
  const object = built.object;
  const size = () => {
    built.finish();
    return Buffer.byteLength(JSON.stringify(object));
  };
  // The last-applied annotation repeats the spec: what is added to a full Deployment counts twice.
  const factor = kind === 'Deployment' && (object.metadata as Json).annotations ? 2 : 1;
  let current = size();
  let guard = 0;
  while (current < bytes && guard++ < 10_000) {
    const missing = (bytes - current) / factor;
    let added = 0;
    if (kind === 'ConfigMap') {
      const data = object.data as Json;
      const key = `${rng.word()}-${rng.hex(6)}.properties`;
      const value = Array.from({ length: Math.max(1, Math.min(40, Math.floor(missing / 40))) }, () => `${rng.word()}.${rng.word()}=${rng.hex(rng.int(8, 40))}`).join('\n');
      data[key] = value;
      added = key.length + value.length + 8;
    } else if (kind === 'PrometheusRule') {
      const groups = (object.spec as { groups: Json[] }).groups;
      if (groups.length === 0 || (groups[groups.length - 1]?.rules as Json[]).length >= 20) groups.push({ name: `${rng.word()}.rules`, interval: '30s', rules: [] });
      const rule = {
        alert: `${rng.pick(['Http', 'Grpc', 'Queue', 'Disk', 'Pod'])}${rng.pick(['Errors', 'Latency', 'Restarts', 'Backlog'])}${rng.pick(['High', 'Down', 'Slow', 'Saturated'])}`,
        expr: `sum(rate(http_requests_total{job="${rng.word()}",code=~"5.."}[5m])) by (instance) / sum(rate(http_requests_total{job="${rng.word()}"}[5m])) by (instance) > 0.0${rng.int(1, 9)}`,
        for: `${rng.int(1, 30)}m`,
        labels: { severity: rng.pick(['warning', 'critical', 'info']), team: rng.pick(TEAMS) },
        annotations: { summary: `${rng.word()} ${rng.word()} on {{ $labels.instance }}`, runbook_url: `https://runbooks.example.com/${rng.word()}/${rng.hex(8)}` },
      };
      ((groups[groups.length - 1] as Json).rules as Json[]).push(rule);
      added = JSON.stringify(rule).length + 1;
    } else {
      // Workloads: environment variables on the containers, round-robin.
      const containers = workloadContainers(kind, object);
      const ct = containers[guard % containers.length] as Json;
      const more = envVars(rng, Math.max(1, Math.min(20, Math.floor(missing / 90))));
      (ct.env as Json[]).push(...more);
      added = JSON.stringify(more).length * factor;
    }
    current += added;
    if (guard % 16 === 0 || current >= bytes) current = size();
  }
  built.finish();
}

function workloadContainers(kind: CorpusKind, object: Json): Json[] {
  const spec = object.spec as Json;
  if (kind === 'Pod') return spec.containers as Json[];
  if (kind === 'Deployment') return ((spec.template as Json).spec as Json).containers as Json[];
  return ((((spec.jobTemplate as Json).spec as Json).template as Json).spec as Json).containers as Json[];
}

// --- reviews ---------------------------------------------------------------------

const RESOURCES: Record<CorpusKind, { group: string; version: string; resource: string }> = {
  Pod: { group: '', version: 'v1', resource: 'pods' },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs' },
  ConfigMap: { group: '', version: 'v1', resource: 'configmaps' },
  PrometheusRule: { group: 'monitoring.coreos.com', version: 'v1', resource: 'prometheusrules' },
};

/** The review around an object; `object` and `oldObject` are filled in later. */
function envelope(rng: Rng, kind: CorpusKind, operation: Operation, lean: boolean): { review: Json; request: Json } {
  const r = RESOURCES[kind];
  const gvk = { group: r.group, version: r.version, kind };
  const user = rng.chance(0.5)
    ? { username: `system:serviceaccount:kube-system:${rng.pick(['replicaset-controller', 'deployment-controller', 'cronjob-controller'])}`, uid: uuid(rng), groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] }
    : { username: `${rng.word()}@example.com`, uid: uuid(rng), groups: ['system:authenticated', `oidc:${rng.pick(TEAMS)}`], ...(lean ? {} : { extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${rng.hex(64)}`] } }) };
  const request: Json = {
    uid: uuid(rng),
    kind: gvk,
    resource: { group: r.group, version: r.version, resource: r.resource },
    requestKind: gvk,
    requestResource: { group: r.group, version: r.version, resource: r.resource },
    name: '',
    namespace: '',
    operation,
    userInfo: user,
    object: null,
    oldObject: null,
    dryRun: false,
    options: { apiVersion: 'meta.k8s.io/v1', kind: operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions', fieldManager: 'kubectl-client-side-apply' },
  };
  return { review: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }, request };
}

interface KindSpec {
  readonly kind: CorpusKind;
  readonly weight: number;
  /** Review size range in bytes (log-uniform). */
  readonly min: number;
  readonly max: number;
  readonly update: number;
}

const PROFILES: Record<CorpusProfile, readonly KindSpec[]> = {
  mixed: [
    { kind: 'Pod', weight: 0.35, min: 2_000, max: 12_000, update: 0.3 },
    { kind: 'Deployment', weight: 0.25, min: 6_000, max: 30_000, update: 0.6 },
    { kind: 'CronJob', weight: 0.1, min: 2_000, max: 9_000, update: 0.3 },
    { kind: 'ConfigMap', weight: 0.2, min: 2_000, max: 60_000, update: 0.5 },
    { kind: 'PrometheusRule', weight: 0.1, min: 60_000, max: 100_000, update: 0.5 },
  ],
  small: [
    { kind: 'Pod', weight: 0.5, min: 2_000, max: 2_000, update: 0 },
    { kind: 'Deployment', weight: 0.3, min: 2_000, max: 2_000, update: 0 },
    { kind: 'CronJob', weight: 0.2, min: 2_000, max: 2_000, update: 0 },
  ],
  medium: [
    { kind: 'Pod', weight: 0.5, min: 5_000, max: 5_000, update: 0.3 },
    { kind: 'Deployment', weight: 0.3, min: 5_000, max: 5_000, update: 0.3 },
    { kind: 'CronJob', weight: 0.2, min: 5_000, max: 5_000, update: 0.3 },
  ],
  large: [
    { kind: 'Pod', weight: 0.4, min: 100_000, max: 100_000, update: 0.5 },
    { kind: 'Deployment', weight: 0.6, min: 100_000, max: 100_000, update: 0.5 },
  ],
};

/** Below this many bytes per object, workloads are built lean (no managedFields, probes, defaults). */
const LEAN_BELOW = 7_000;

const DENY_INTENTS: readonly Intent[] = ['deny-privileged', 'deny-registry', 'deny-latest-tag', 'deny-host-path', 'deny-host-network'];

function pickKind(rng: Rng, specs: readonly KindSpec[]): KindSpec {
  let x = rng() * specs.reduce((s, k) => s + k.weight, 0);
  for (const spec of specs) {
    x -= spec.weight;
    if (x < 0) return spec;
  }
  return specs[specs.length - 1] as KindSpec;
}

function workloadIntent(rng: Rng, kind: CorpusKind, violating: number): Intent {
  const x = rng();
  if (x < violating) return rng.pick(DENY_INTENTS);
  if (x < violating + 0.08) return 'warn-missing-limits';
  if (kind !== 'Pod' && x < violating + 0.12) return 'dryrun-missing-owner';
  return 'compliant';
}

/** The same corpus for the same options, on every machine. */
export function generateCorpus(options: CorpusOptions): CorpusItem[] {
  const rng = createRng(options.seed ?? DEFAULT_SEED);
  const specs = PROFILES[options.profile];
  const violating = options.violating ?? 0.1;
  const items: CorpusItem[] = [];
  for (let index = 0; index < options.count; index++) {
    const spec = pickKind(rng, specs);
    const operation: Operation = rng.chance(spec.update) ? 'UPDATE' : 'CREATE';
    const target = Math.round(spec.min * Math.pow(spec.max / spec.min, rng()));
    const perObject = operation === 'UPDATE' ? target / 2 : target;
    const lean = perObject < LEAN_BELOW;
    const { review, request } = envelope(rng, spec.kind, operation, lean);
    const namespace = rng.pick(NAMESPACES);
    const workload = spec.kind === 'Pod' || spec.kind === 'Deployment' || spec.kind === 'CronJob';
    const intent: Intent = workload ? workloadIntent(rng, spec.kind, violating) : 'compliant';
    const shape: WorkloadShape = {
      lean,
      containers: target > 40_000 ? rng.int(3, 6) : target > 8_000 ? rng.int(1, 3) : 1,
      env: lean ? 0 : rng.int(2, 6),
      initContainer: !lean && target > 6_000 && rng.chance(0.3),
      intent,
    };
    const built =
      spec.kind === 'Pod' ? pod(rng, shape, namespace)
        : spec.kind === 'Deployment' ? deployment(rng, shape, namespace)
          : spec.kind === 'CronJob' ? cronJob(rng, shape, namespace)
            : spec.kind === 'ConfigMap' ? configMap(rng, namespace)
              : prometheusRule(rng, namespace);
    const meta = built.object.metadata as Json;
    request.name = meta.name;
    request.namespace = meta.namespace;
    // The envelope and, for an UPDATE, the old object share the target size.
    const envelopeBytes = Buffer.byteLength(JSON.stringify(review)) - 8;
    grow(rng, spec.kind, built, Math.max(0, (target - envelopeBytes) / (operation === 'UPDATE' ? 2 : 1)));
    request.object = built.object;
    request.oldObject = operation === 'UPDATE' ? built.previous() : null;
    items.push({ index, kind: spec.kind, operation, intent, body: Buffer.from(JSON.stringify(review)) });
  }
  return items;
}

/** The starter set's decision for an item, from the generator's intent. */
export function expectedAllowed(item: CorpusItem): boolean {
  return !item.intent.startsWith('deny-');
}

export function describeCorpus(items: readonly CorpusItem[]): {
  count: number;
  bytes: { min: number; p50: number; mean: number; max: number };
  kinds: Record<string, number>;
  operations: Record<string, number>;
  intents: Record<string, number>;
} {
  const sizes = items.map((i) => i.body.byteLength).sort((a, b) => a - b);
  const tally = (f: (i: CorpusItem) => string) => items.reduce<Record<string, number>>((acc, i) => ((acc[f(i)] = (acc[f(i)] ?? 0) + 1), acc), {});
  return {
    count: items.length,
    bytes: {
      min: sizes[0] ?? 0,
      p50: sizes[Math.floor(sizes.length / 2)] ?? 0,
      mean: Math.round(sizes.reduce((s, x) => s + x, 0) / Math.max(1, sizes.length)),
      max: sizes[sizes.length - 1] ?? 0,
    },
    kinds: tally((i) => i.kind),
    operations: tally((i) => i.operation),
    intents: tally((i) => i.intent),
  };
}
