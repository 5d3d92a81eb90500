// What only a real cluster can show, against bouncer deployed from manifests/base by
// hack/kind-e2e.sh (it sets BOUNCER_E2E_KIND=1; everywhere else this file is skipped): the
// replicas behind the Service, the certificate Lease and the injected caBundle, a rolling
// restart under steady admission load with failurePolicy Fail, the PodDisruptionBudget against
// evictions and a drain, the NetworkPolicy, and readiness gating on the required bundle.
import { spawn } from 'node:child_process';
import { connect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoordinationV1Api, DiscoveryV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiFailure, createNamespace, kubeFor, uniqueName, waitFor } from '../support/kube.js';

const NS = 'bouncer-system';
const SELECTOR = 'app.kubernetes.io/name=bouncer,app.kubernetes.io/component=webhook';
const enabled = process.env.BOUNCER_E2E_KIND === '1';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** kubectl, asynchronously (the load generator keeps running meanwhile), killed after timeoutMs. */
function kubectlAsync(kubectl: string, kubeconfig: string, args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(kubectl, [...args], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

const ready = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe.skipIf(!enabled)('bouncer in a kind cluster', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const apps = kube.kc.makeApiClient(AppsV1Api);
  const leases = kube.kc.makeApiClient(CoordinationV1Api);
  const discovery = kube.kc.makeApiClient(DiscoveryV1Api);
  const ns = uniqueName('kind');
  const image = process.env.BOUNCER_E2E_IMAGE ?? 'bouncer:e2e';
  const run = (args: readonly string[], timeoutMs = 60_000) => kubectlAsync(state.kubectl, state.kubeconfig, args, timeoutMs);

  const bouncerPods = async () => (await kube.core.listNamespacedPod({ namespace: NS, labelSelector: SELECTOR })).items;
  const readyPods = async () => (await bouncerPods()).filter((p) => ready(p) && !p.metadata?.deletionTimestamp);
  const allReplicasReady = async () => {
    const d = await apps.readNamespacedDeployment({ namespace: NS, name: 'bouncer' });
    const want = d.spec?.replicas ?? 0;
    return d.status?.readyReplicas === want && d.status.updatedReplicas === want && d.status.replicas === want && (await readyPods()).length === want;
  };

  // A compliant Pod, created with server-side dry run: every call is a real admission review
  // through the Service, and nothing is left behind.
  const compliantPod = (name: string) => ({
    metadata: { name, labels: { owner: 'e2e' } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' as const } },
      containers: [
        {
          name: 'app',
          image,
          resources: { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '50m', memory: '32Mi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  });
  const review = (name: string) => kube.core.createNamespacedPod({ namespace: ns, body: compliantPod(name), dryRun: 'All' });

  beforeAll(async () => {
    await createNamespace(kube, ns, { owner: 'e2e' });
    await waitFor(allReplicasReady, 180_000, 'every bouncer replica ready');
  });

  afterAll(async () => {
    await run(['uncordon', '--all']);
    await kube.core.deleteNamespace({ name: ns }).catch(() => undefined);
  });

  it('runs at least two ready replicas behind the Service, and admission goes through it', async () => {
    const pods = await readyPods();
    expect(pods.length).toBeGreaterThanOrEqual(2);
    const slices = await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=bouncer' });
    const readyAddresses = slices.items.flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready).flatMap((e) => e.addresses));
    expect(readyAddresses.sort()).toEqual(pods.map((p) => p.status?.podIP).sort());
    // Denied by the baseline bundle, through clientConfig.service (the API server dials the
    // Service's ClusterIP: kube-proxy and the CNI are on the path).
    const privileged = compliantPod('priv');
    (privileged.spec.containers[0] as { securityContext: object }).securityContext = { privileged: true };
    const denied = await kube.core.createNamespacedPod({ namespace: ns, body: privileged, dryRun: 'All' }).then(
      () => undefined,
      (err: unknown) => apiFailure(err),
    );
    expect(denied?.message).toContain('denied the request');
    expect(denied?.message).toContain('[disallow-privileged]');
    await expect(review('good')).resolves.toBeTruthy();
  });

  it('one replica holds the certificate Lease; every replica serves a certificate the injected caBundle verifies', async () => {
    const pods = await readyPods();
    const names = pods.map((p) => p.metadata?.name);
    const lease = await leases.readNamespacedLease({ namespace: NS, name: 'bouncer-certs' });
    expect(names).toContain(lease.spec?.holderIdentity);
    const vwc = await kube.admission.readValidatingWebhookConfiguration({ name: 'bouncer' });
    const bundles = new Set((vwc.webhooks ?? []).map((w) => w.clientConfig.caBundle ?? ''));
    expect(bundles.size).toBe(1);
    const ca = Buffer.from([...bundles][0] ?? '', 'base64').toString('utf8');
    expect(ca).toContain('BEGIN CERTIFICATE');
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      const forward = spawn(state.kubectl, ['port-forward', '-n', NS, `pod/${name}`, ':8443'], { env: { ...process.env, KUBECONFIG: state.kubeconfig } });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`port-forward to ${name} did not start`)), 20_000);
          forward.stdout.on('data', (d: Buffer) => {
            const m = /127\.0\.0\.1:(\d+)/.exec(d.toString());
            if (m) {
              clearTimeout(timer);
              resolve(Number(m[1]));
            }
          });
        });
        const verdict = await new Promise<{ authorized: boolean; error?: string }>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port, ca, servername: `bouncer.${NS}.svc` }, () => {
            resolve({ authorized: socket.authorized, ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}) });
            socket.end();
          });
          socket.on('error', (err) => resolve({ authorized: false, error: err.message }));
        });
        expect({ pod: name, ...verdict }).toEqual({ pod: name, authorized: true });
      } finally {
        forward.kill();
      }
    }
  });

  it('a rolling restart under steady admission load loses no request (failurePolicy Fail)', async () => {
    const vwc = await kube.admission.readValidatingWebhookConfiguration({ name: 'bouncer' });
    expect(vwc.webhooks?.every((w) => w.failurePolicy === 'Fail')).toBe(true);
    let stop = false;
    let sent = 0;
    const failures: string[] = [];
    const worker = async (id: number) => {
      for (let i = 0; !stop && i < 100_000; i++) {
        sent++;
        try {
          await review(`load-${id}-${i}`);
        } catch (err) {
          failures.push(apiFailure(err).message);
        }
        await sleep(20);
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    await sleep(3_000);
    const before = new Set((await bouncerPods()).map((p) => p.metadata?.uid));
    const restart = await run(['-n', NS, 'rollout', 'restart', 'deployment/bouncer']);
    expect(restart.code, restart.stderr).toBe(0);
    const status = await run(['-n', NS, 'rollout', 'status', 'deployment/bouncer', '--timeout=300s'], 320_000);
    expect(status.code, status.stderr).toBe(0);
    await waitFor(allReplicasReady, 60_000, 'the restarted replicas ready');
    // The load goes on until the old replicas are gone: their termination (endpoint removal,
    // in-flight reviews drained) is the part a rolling restart can lose requests in.
    await waitFor(async () => !(await bouncerPods()).some((p) => before.has(p.metadata?.uid)), 90_000, 'the old replicas gone');
    await sleep(5_000);
    stop = true;
    await Promise.all(workers);
    console.log(`rolling restart: ${sent} admission requests, ${failures.length} failed`);
    expect(sent).toBeGreaterThan(100);
    expect(failures).toEqual([]);
  }, 420_000);

  it('the PodDisruptionBudget refuses a second voluntary eviction while one replica is down', async () => {
    await waitFor(allReplicasReady, 120_000, 'every bouncer replica ready');
    const [first, second] = await readyPods();
    const evict = (pod: V1Pod) =>
      kube.core.createNamespacedPodEviction({ namespace: NS, name: pod.metadata?.name ?? '', body: { metadata: { name: pod.metadata?.name ?? '', namespace: NS } } });
    await expect(evict(first as V1Pod)).resolves.toBeTruthy();
    const refused = await evict(second as V1Pod).then(
      () => undefined,
      (err: unknown) => apiFailure(err),
    );
    expect(refused?.code).toBe(429);
    expect(refused?.message).toMatch(/disruption budget/);
  }, 180_000);

  it('kubectl drain of the node stops at the budget: the other replicas keep serving', async () => {
    await waitFor(allReplicasReady, 180_000, 'every bouncer replica ready');
    const node = (await bouncerPods())[0]?.spec?.nodeName ?? '';
    const replicas = (await readyPods()).length;
    try {
      const drain = await run(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', `--pod-selector=${SELECTOR}`, '--timeout=45s'], 90_000);
      // One node: every evicted replica's replacement stays Pending on the cordoned node, so
      // the drain takes what the budget allows and then waits on it until its timeout.
      expect(drain.code).not.toBe(0);
      expect(drain.stderr).toMatch(/disruption budget/);
      const serving = await readyPods();
      expect(serving.length).toBe(replicas - 1);
      await expect(review('during-drain')).resolves.toBeTruthy();
    } finally {
      await run(['uncordon', node]);
    }
    await waitFor(allReplicasReady, 180_000, 'every bouncer replica ready after uncordon');
  }, 400_000);

  it('the NetworkPolicy admits traffic to the webhook port; metrics are closed to other namespaces where the CNI enforces policies', async (ctx) => {
    const target = (await readyPods())[0]?.status?.podIP ?? '';
    const probe = compliantPod('netprobe');
    const script = `const net=require('net');const r={};let n=0;for(const p of [8443,8080]){const s=net.connect({host:${JSON.stringify(target)},port:p,timeout:3000});const done=(v)=>{if(r[p]!==undefined)return;r[p]=v;s.destroy();if(++n===2)console.log(JSON.stringify(r));};s.on('connect',()=>done('open'));s.on('timeout',()=>done('blocked'));s.on('error',(e)=>done(e.code))}`;
    // The image's entrypoint is bouncer's CLI; the probe runs its node binary directly.
    Object.assign(probe.spec.containers[0] as object, { command: ['/nodejs/bin/node'], args: ['-e', script] });
    Object.assign(probe.spec, { restartPolicy: 'Never' });
    await kube.core.createNamespacedPod({ namespace: ns, body: probe });
    await waitFor(async () => ['Succeeded', 'Failed'].includes((await kube.core.readNamespacedPod({ namespace: ns, name: 'netprobe' })).status?.phase ?? ''), 120_000, 'the probe pod finished');
    const log = await kube.core.readNamespacedPodLog({ namespace: ns, name: 'netprobe' });
    const result = JSON.parse(log.trim()) as Record<string, string>;
    expect(result['8443']).toBe('open');
    if (result['8080'] === 'open') {
      ctx.skip(true, `this cluster's CNI does not enforce NetworkPolicy (port 8080 of ${target} answered from namespace ${ns})`);
    }
    expect(result['8080']).toBe('blocked');
  }, 180_000);

  it('readiness gates serving: a replica requiring a bundle that is not there yet stays out of the Service until it is pushed', async () => {
    await waitFor(allReplicasReady, 180_000, 'every bouncer replica ready');
    const bundleFile = process.env.BOUNCER_E2E_KIND_BUNDLE;
    expect(bundleFile, 'hack/kind-e2e.sh sets BOUNCER_E2E_KIND_BUNDLE').toBeTruthy();
    const bundle = uniqueName('late');
    const template = (await apps.readNamespacedDeployment({ namespace: NS, name: 'bouncer' })).spec?.template;
    const name = uniqueName('bouncer-gated');
    // The Deployment's pod, selected by the Service but not by its ReplicaSet (no
    // pod-template-hash), requiring a bundle nobody has pushed yet.
    const spec = structuredClone(template?.spec);
    const container = spec?.containers[0];
    if (!spec || !container) throw new Error('the Deployment has no pod template');
    container.args = (container.args ?? []).map((a) => (a.startsWith('--require-bundle=') ? `--require-bundle=${bundle}` : a));
    await kube.core.createNamespacedPod({ namespace: NS, body: { metadata: { name, labels: template?.metadata?.labels ?? {} }, spec } });
    const endpointOf = async () => {
      const pod = await kube.core.readNamespacedPod({ namespace: NS, name });
      const slices = await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=bouncer' });
      return { pod, endpoint: slices.items.flatMap((s) => s.endpoints).find((e) => e.targetRef?.name === name) };
    };
    try {
      // Started (its health endpoint answers) but not ready: listed, not served.
      await waitFor(async () => (await endpointOf()).pod.status?.containerStatuses?.[0]?.started === true, 120_000, 'the gated replica started');
      await sleep(12_000);
      const gated = await endpointOf();
      expect(ready(gated.pod)).toBe(false);
      expect(gated.endpoint?.conditions?.ready).toBe(false);
      const push = await new Promise<Run>((resolve) => {
        const child = spawn(process.execPath, ['bin/bouncer.js', 'push', bundleFile ?? '', '--name', bundle, '-n', NS], { env: { ...process.env, KUBECONFIG: state.kubeconfig } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });
      expect(push.code, push.stderr).toBe(0);
      await waitFor(async () => (await endpointOf()).endpoint?.conditions?.ready === true, 90_000, 'the gated replica served once its bundle is active');
    } finally {
      await kube.core.deleteNamespacedPod({ namespace: NS, name, gracePeriodSeconds: 0 }).catch(() => undefined);
      await run(['-n', NS, 'delete', 'configmap', '-l', `bouncer.dev/bundle=${bundle}`]);
    }
  }, 300_000);
});
