// `bouncer uninstall`: removes bouncer in the one order that cannot block the cluster.
//   1. Its webhook configurations are relaxed (every webhook failurePolicy Ignore), then
//      deleted: while the API server's webhook informer still holds them, a call to a backend
//      being removed is ignored instead of failing the write.
//   2. It waits until the API server no longer calls them. Proof, when the API server's
//      /metrics can be read: a probe write the webhooks matched (a dry-run create) no longer
//      moves apiserver_admission_webhook_admission_duration_seconds_count for their names.
//      Without /metrics, a fixed settle time, and the result says so.
//   3. Only then the rest (labelled app.kubernetes.io/name=bouncer): the namespace's objects,
//      cluster roles and bindings, the priority class, and the namespace.
// It refuses (before deleting anything) while another webhook configuration sends requests to
// bouncer's Service with failurePolicy Fail: removing the backend would leave that webhook
// failing every write it matches.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, NetworkingV1Api, PatchStrategy, PolicyV1Api, RbacAuthorizationV1Api, SchedulingV1Api, setHeaderOptions, type KubeConfig, type V1MutatingWebhookConfiguration, type V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { BouncerError } from '../errors/errors.js';
import { clusterError } from './bundle-store.js';

export const BOUNCER_SELECTOR = 'app.kubernetes.io/name=bouncer';

type Config = V1ValidatingWebhookConfiguration | V1MutatingWebhookConfiguration;
type ConfigKind = 'validating' | 'mutating';

export interface UninstallOptions {
  /** Where bouncer runs (its Service, bundle ConfigMaps, Deployment). */
  readonly namespace: string;
  /** Objects that are bouncer's (default BOUNCER_SELECTOR). */
  readonly selector?: string;
  /** Keep the stored bundle revisions (the namespace's ConfigMaps, and so the namespace). */
  readonly keepBundles?: boolean;
  /** Longest wait for the API server to stop calling the webhooks. */
  readonly timeoutMs?: number;
  /** Wait when the end of the calls cannot be proven (no /metrics, no matched probe). */
  readonly settleMs?: number;
  /** Where the ConfigMap probe is dry-run created (default "default"): a namespace the webhooks match. */
  readonly probeNamespace?: string;
  readonly log: (line: string) => void;
  readonly dryRun?: boolean;
  /** Stop after step 2 (webhooks gone, calls ended): the rest is left to its installer (the Helm chart's pre-delete hook). */
  readonly webhooksOnly?: boolean;
}

export interface UninstallResult {
  readonly webhooks: readonly string[];
  /** How the end of the calls was established: metrics (probe writes no longer counted), settle (a fixed wait), none (nothing matched a probe). */
  readonly stoppedBy: 'metrics' | 'settle' | 'none';
  readonly deleted: readonly string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const notFound = (err: unknown) => (err as { code?: number }).code === 404;

/** GET of a path of the cluster with the kubeconfig's credentials: the body, or undefined on any failure. */
async function getText(kc: KubeConfig, path: string): Promise<string | undefined> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) return undefined;
  const options: RequestOptions = { method: 'GET', timeout: 10_000 };
  await kc.applyToHTTPSOptions(options);
  const url = new URL(path, server);
  return new Promise((resolve) => {
    const req = (url.protocol === 'http:' ? httpRequest : httpsRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString('utf8') : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Sum of the API server's admission call counts for these webhook names, undefined when /metrics is not readable. */
async function webhookCalls(kc: KubeConfig, names: ReadonlySet<string>): Promise<number | undefined> {
  const text = await getText(kc, '/metrics');
  if (text === undefined) return undefined;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_admission_webhook_admission_duration_seconds_count{')) continue;
    const name = /[{,]name="([^"]*)"/.exec(line)?.[1];
    if (name !== undefined && names.has(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function covers(config: Config, group: string, resource: string): boolean {
  return (config.webhooks ?? []).some((w) =>
    (w.rules ?? []).some(
      (r) =>
        (r.apiGroups ?? []).some((g) => g === '*' || g === group) &&
        (r.resources ?? []).some((x) => x === '*' || x === resource) &&
        (r.operations ?? []).some((o) => o === '*' || o === 'CREATE'),
    ),
  );
}

export async function uninstall(kc: KubeConfig, options: UninstallOptions): Promise<UninstallResult> {
  const selector = options.selector ?? BOUNCER_SELECTOR;
  const { namespace, log } = options;
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const fail = (what: string) => (err: unknown) => {
    throw clusterError(err, what);
  };

  const [validating, mutating] = await Promise.all([
    admission.listValidatingWebhookConfiguration({}).catch(fail('listing ValidatingWebhookConfigurations')),
    admission.listMutatingWebhookConfiguration({}).catch(fail('listing MutatingWebhookConfigurations')),
  ]);
  const all: { kind: ConfigKind; config: Config }[] = [
    ...validating.items.map((config) => ({ kind: 'validating' as const, config })),
    ...mutating.items.map((config) => ({ kind: 'mutating' as const, config })),
  ];
  const labels = Object.fromEntries(selector.split(',').map((kv) => kv.split('=') as [string, string]));
  const ours = all.filter(({ config }) => Object.entries(labels).every(([k, v]) => config.metadata?.labels?.[k] === v));
  const foreign = all
    .filter((c) => !ours.includes(c))
    .flatMap(({ kind, config }) =>
      (config.webhooks ?? [])
        .filter((w) => w.clientConfig.service?.namespace === namespace && w.failurePolicy !== 'Ignore')
        .map((w) => `${kind} webhook configuration ${config.metadata?.name}: webhook ${w.name} -> service ${namespace}/${w.clientConfig.service?.name} with failurePolicy ${w.failurePolicy ?? 'Fail'}`),
    );
  if (foreign.length > 0) {
    throw new BouncerError(
      'UNINSTALL_REFUSED',
      `other webhooks send requests to services in ${namespace} and would fail every write they match once bouncer is gone; delete them or set their failurePolicy to Ignore first:\n  ${foreign.join('\n  ')}`,
    );
  }
  const webhookNames = new Set(ours.flatMap(({ config }) => (config.webhooks ?? []).map((w) => w.name)));
  const described = ours.map(({ kind, config }) => `${kind}webhookconfiguration/${config.metadata?.name}`);
  if (options.dryRun) {
    log(`would relax and delete: ${described.join(', ') || 'no webhook configuration'}`);
    return { webhooks: described, stoppedBy: 'none', deleted: [] };
  }

  // A probe the webhooks matched, to see when the API server stops calling them.
  const probeNamespace = ours.some(({ config }) => covers(config, '', 'namespaces'));
  const probeConfigMap = ours.some(({ config }) => covers(config, '', 'configmaps'));
  const probe = async () => {
    const name = `bouncer-uninstall-probe-${Date.now().toString(36)}`;
    if (probeNamespace) await core.createNamespace({ body: { metadata: { name } }, dryRun: 'All' }).catch(() => undefined);
    else if (probeConfigMap) await core.createNamespacedConfigMap({ namespace: options.probeNamespace ?? 'default', body: { metadata: { name } }, dryRun: 'All' }).catch(() => undefined);
  };
  /** Whether a probe is counted for the webhooks now (so its not being counted later means something). */
  const probeCounted = async (): Promise<boolean> => {
    if (!probeNamespace && !probeConfigMap) return false;
    const before = await webhookCalls(kc, webhookNames);
    if (before === undefined) return false;
    await probe();
    const after = await webhookCalls(kc, webhookNames);
    return after !== undefined && after > before;
  };
  const measurable = ours.length > 0 && (await probeCounted());

  for (const { kind, config } of ours) {
    const name = config.metadata?.name as string;
    const patch = (config.webhooks ?? []).map((_, i) => ({ op: 'replace', path: `/webhooks/${i}/failurePolicy`, value: 'Ignore' }));
    if (patch.length > 0) {
      const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
      const call = kind === 'validating' ? admission.patchValidatingWebhookConfiguration({ name, body: patch }, jsonPatch) : admission.patchMutatingWebhookConfiguration({ name, body: patch }, jsonPatch);
      await call.catch((err: unknown) => (notFound(err) ? undefined : fail(`relaxing ${kind} webhook configuration ${name}`)(err)));
    }
    log(`${kind} webhook configuration ${name}: failurePolicy Ignore`);
  }
  for (const { kind, config } of ours) {
    const name = config.metadata?.name as string;
    const call = kind === 'validating' ? admission.deleteValidatingWebhookConfiguration({ name }) : admission.deleteMutatingWebhookConfiguration({ name });
    await call.catch((err: unknown) => (notFound(err) ? undefined : fail(`deleting ${kind} webhook configuration ${name}`)(err)));
    log(`${kind} webhook configuration ${name}: deleted`);
  }

  let stoppedBy: UninstallResult['stoppedBy'] = ours.length === 0 ? 'none' : 'settle';
  if (ours.length > 0 && measurable) {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let quiet = 0;
    while (quiet < 2) {
      if (Date.now() > deadline) throw new BouncerError('UNINSTALL_REFUSED', `the API server still calls ${[...webhookNames].join(', ')} ${options.timeoutMs ?? 60_000} ms after their configurations were deleted; nothing else was removed`);
      const before = await webhookCalls(kc, webhookNames);
      await probe();
      const after = await webhookCalls(kc, webhookNames);
      quiet = before !== undefined && after === before ? quiet + 1 : 0;
      if (quiet < 2) await sleep(200);
    }
    stoppedBy = 'metrics';
    log('the API server no longer calls the webhooks (probe writes are not counted for them)');
  } else if (ours.length > 0) {
    await sleep(options.settleMs ?? 5000);
    log(`no probe write reached the webhooks while they were registered (the API server's /metrics unreadable, or --probe-namespace not matched): waited ${options.settleMs ?? 5000} ms for it to drop them`);
  }

  if (options.webhooksOnly) return { webhooks: described, stoppedBy, deleted: [] };
  const deleted = await deleteTheRest(kc, namespace, selector, options.keepBundles === true, log);
  return { webhooks: described, stoppedBy, deleted };
}

/** Deletes bouncer's labelled objects, namespace first, then cluster-wide; 404s are not errors. */
async function deleteTheRest(kc: KubeConfig, namespace: string, labelSelector: string, keepBundles: boolean, log: (line: string) => void): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const scheduling = kc.makeApiClient(SchedulingV1Api);
  const deleted: string[] = [];
  type Named = { items: { metadata?: { name?: string } }[] };
  const sweep = async (what: string, list: () => Promise<Named>, remove: (name: string) => Promise<unknown>) => {
    const items = await list().catch((err: unknown) => (notFound(err) ? { items: [] } : Promise.reject(clusterError(err, `listing ${what}`))));
    for (const item of items.items) {
      const name = item.metadata?.name;
      if (!name) continue;
      await remove(name).catch((err: unknown) => (notFound(err) ? undefined : Promise.reject(clusterError(err, `deleting ${what} ${name}`))));
      deleted.push(`${what}/${name}`);
      log(`${what} ${name}: deleted`);
    }
  };
  const ns = { namespace, labelSelector };
  await sweep('deployment', () => apps.listNamespacedDeployment(ns), (name) => apps.deleteNamespacedDeployment({ namespace, name }));
  await sweep('service', () => core.listNamespacedService(ns), (name) => core.deleteNamespacedService({ namespace, name }));
  await sweep('poddisruptionbudget', () => policy.listNamespacedPodDisruptionBudget(ns), (name) => policy.deleteNamespacedPodDisruptionBudget({ namespace, name }));
  await sweep('networkpolicy', () => net.listNamespacedNetworkPolicy(ns), (name) => net.deleteNamespacedNetworkPolicy({ namespace, name }));
  await sweep('rolebinding', () => rbac.listNamespacedRoleBinding(ns), (name) => rbac.deleteNamespacedRoleBinding({ namespace, name }));
  await sweep('role', () => rbac.listNamespacedRole(ns), (name) => rbac.deleteNamespacedRole({ namespace, name }));
  await sweep('serviceaccount', () => core.listNamespacedServiceAccount(ns), (name) => core.deleteNamespacedServiceAccount({ namespace, name }));
  await sweep('clusterrolebinding', () => rbac.listClusterRoleBinding({ labelSelector }), (name) => rbac.deleteClusterRoleBinding({ name }));
  await sweep('clusterrole', () => rbac.listClusterRole({ labelSelector }), (name) => rbac.deleteClusterRole({ name }));
  await sweep('priorityclass', () => scheduling.listPriorityClass({ labelSelector }), (name) => scheduling.deletePriorityClass({ name }));
  if (keepBundles) {
    log(`namespace ${namespace} kept: it holds the stored bundle revisions (--keep-bundles)`);
    return deleted;
  }
  await sweep('namespace', () => core.listNamespace({ labelSelector, fieldSelector: `metadata.name=${namespace}` }), (name) => core.deleteNamespace({ name }));
  return deleted;
}
