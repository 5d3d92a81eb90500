// manifests/ against the real API server: the base and both overlays apply server-side, the
// service account gets exactly the access bouncer needs, and the committed webhook
// configurations cannot be escaped by labelling a namespace.
//
// No kubelet runs here, so bouncer's pods never start and nothing serves the `bouncer`
// Service: the webhook configurations named `bouncer` are deleted right after each apply,
// or every later pod write would fail against a missing endpoint (validation fails closed).
// Against an existing cluster (hack/kind-e2e.sh) bouncer is already deployed from
// manifests/base: nothing is applied or deleted there; the RBAC table and the tenant escape
// run against the deployed bouncer.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { kubectl, type KubectlResult } from '../support/kubectl.js';
import { deleteWebhooks, kubeFor, uniqueName } from '../support/kube.js';
import { privilegedPod } from '../support/bundle-files.js';

const NS = 'bouncer-system';
const SA = `system:serviceaccount:${NS}:bouncer`;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

function documents(yaml: string): Manifest[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

describe('manifests/ on a real API server', () => {
  const state = inject('controlPlane');
  const external = inject('externalCluster');
  const kube = kubeFor(state);
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-manifests-'));
  const run = (args: string[], input?: string): KubectlResult => kubectl(state, args, input);
  const ok = (args: string[], input?: string): KubectlResult => {
    const result = run(args, input);
    expect(result.code, `kubectl ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result;
  };
  const dropWebhooks = () => deleteWebhooks(kube, 'bouncer');

  /** Renders a kustomization, applies it server-side, and checks every rendered object exists. */
  async function applyAndGet(kustomization: string): Promise<{ docs: Manifest[]; applied: KubectlResult }> {
    const yaml = ok(['kustomize', kustomization]).stdout;
    const file = join(dir, `${kustomization.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, yaml);
    try {
      const applied = ok(['apply', '--server-side', '--field-manager=bouncer-e2e', '-f', '-'], yaml);
      const got = ok(['get', '-f', file, '-o', 'name']);
      const docs = documents(yaml);
      expect(got.stdout.trim().split('\n')).toHaveLength(docs.length);
      return { docs, applied };
    } finally {
      await dropWebhooks();
    }
  }

  afterAll(async () => {
    if (!external) await dropWebhooks();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('base', () => {
    it.skipIf(external)('applies server-side; every object exists; the pod template meets the restricted Pod Security profile', async () => {
      const { docs, applied } = await applyAndGet('manifests/base');
      expect(docs.map((d) => d.kind).sort()).toEqual([
        ...Array<string>(5).fill('ClusterRole'), ...Array<string>(5).fill('ClusterRoleBinding'), 'CustomResourceDefinition', 'CustomResourceDefinition',
        'Deployment', 'MutatingWebhookConfiguration', 'Namespace', 'NetworkPolicy',
        'PodDisruptionBudget', 'PriorityClass', 'Role', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount',
        'ValidatingWebhookConfiguration',
      ]);
      expect(applied.stderr).not.toContain('PodSecurity');
      // The namespace does check templates: a privileged one draws the warning.
      const deployment = docs.find((d) => d.kind === 'Deployment') as Manifest & { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
      const privileged = structuredClone(deployment);
      privileged.metadata = { name: 'bouncer-privileged', namespace: NS };
      (privileged.spec.template.spec.containers[0] as Record<string, unknown>).securityContext = { privileged: true };
      expect(ok(['create', '--dry-run=server', '-f', '-'], JSON.stringify(privileged)).stderr).toContain('would violate PodSecurity "restricted:latest"');
    });

    // `kubectl auth can-i` arguments; NS is bouncer's namespace.
    const allowed = [
      'get configmaps -n NS',
      'list configmaps -n NS',
      'watch configmaps -n NS',
      'patch configmaps -n NS',
      'create events -n NS',
      'create events.events.k8s.io -n NS',
      'create leases.coordination.k8s.io -n NS',
      'get leases.coordination.k8s.io/bouncer-certs -n NS',
      'update leases.coordination.k8s.io/bouncer-certs -n NS',
      'create secrets -n NS',
      'get secrets/bouncer-tls -n NS',
      'update secrets/bouncer-tls -n NS',
      'get validatingwebhookconfigurations.admissionregistration.k8s.io/bouncer',
      'patch validatingwebhookconfigurations.admissionregistration.k8s.io/bouncer',
      'get mutatingwebhookconfigurations.admissionregistration.k8s.io/bouncer',
      'patch mutatingwebhookconfigurations.admissionregistration.k8s.io/bouncer',
      // The Namespace cache (namespaceSelector, namespaceObject): read only.
      'get namespaces',
      'list namespaces',
      'watch namespaces',
      // The background audit: list what the policies match, under its own Lease; write reports.
      'list pods --all-namespaces',
      'list deployments.apps --all-namespaces',
      'list cronjobs.batch --all-namespaces',
      'get leases.coordination.k8s.io/bouncer-audit -n NS',
      'update leases.coordination.k8s.io/bouncer-audit -n NS',
      'create reports.openreports.io -n default',
      'update reports.openreports.io -n default',
      'delete reports.openreports.io -n default',
      'list reports.openreports.io --all-namespaces',
      'get clusterreports.openreports.io',
    ];
    const refused = [
      'create configmaps -n NS',
      'update configmaps -n NS',
      'delete configmaps -n NS',
      'get configmaps -n default',
      'update configmaps -n default',
      'get secrets/other -n NS',
      'list secrets -n NS',
      'watch secrets -n NS',
      'delete secrets/bouncer-tls -n NS',
      'get secrets -n kube-system',
      'list secrets --all-namespaces',
      'update leases.coordination.k8s.io/other -n NS',
      'delete leases.coordination.k8s.io/bouncer-certs -n NS',
      'patch validatingwebhookconfigurations.admissionregistration.k8s.io/other-name',
      'patch mutatingwebhookconfigurations.admissionregistration.k8s.io/other-name',
      'update validatingwebhookconfigurations.admissionregistration.k8s.io/other-name',
      // The caBundle is written with a JSON Patch of that one field; a full update is not needed.
      'update validatingwebhookconfigurations.admissionregistration.k8s.io/bouncer',
      'update mutatingwebhookconfigurations.admissionregistration.k8s.io/bouncer',
      'create validatingwebhookconfigurations.admissionregistration.k8s.io',
      'delete validatingwebhookconfigurations.admissionregistration.k8s.io/bouncer',
      'create pods -n NS',
      'create namespaces',
      'update namespaces',
      'patch namespaces',
      'delete namespaces',
      'get nodes',
      'create clusterrolebindings.rbac.authorization.k8s.io',
      'impersonate users',
      'impersonate serviceaccounts -n NS',
      'escalate roles.rbac.authorization.k8s.io -n NS',
      'bind clusterroles.rbac.authorization.k8s.io',
      'get pods -n default',
      'watch pods --all-namespaces',
      'patch reports.openreports.io -n default',
      'watch reports.openreports.io -n default',
      'create customresourcedefinitions.apiextensions.k8s.io',
    ];
    const canI = (args: string) => {
      const result = run(['auth', 'can-i', ...args.replace(/\bNS\b/, NS).split(' '), `--as=${SA}`]);
      expect([0, 1], result.stderr).toContain(result.code);
      return result.code === 0;
    };

    it.each(allowed)('the service account can %s', (args) => {
      expect(canI(args)).toBe(true);
    });

    it.each(refused)('the service account cannot %s', (args) => {
      expect(canI(args)).toBe(false);
    });
  });

  describe.skipIf(external)('overlays', () => {
    beforeAll(() => {
      ok(['apply', '--server-side', '-f', 'test/fixtures/crds/']);
      ok(['wait', '--for=condition=Established', '--timeout=30s', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com', 'crd/certificates.cert-manager.io', 'crd/issuers.cert-manager.io']);
    });

    it('monitoring: the base plus a ServiceMonitor scraping http-metrics /metrics', async () => {
      const { docs } = await applyAndGet('manifests/overlays/monitoring');
      expect(docs.map((d) => d.kind)).toContain('ServiceMonitor');
      const stored = JSON.parse(ok(['get', 'servicemonitor', 'bouncer', '-n', NS, '-o', 'json']).stdout) as { spec: { endpoints: unknown[] } };
      expect(stored.spec.endpoints).toEqual([expect.objectContaining({ port: 'http-metrics', path: '/metrics' })]);
    });

    it('cert-manager: issuers and certificates, the Secret mounted, the CA injected, no certificate permissions', async () => {
      const { docs } = await applyAndGet('manifests/overlays/cert-manager');
      const of = (kind: string) => docs.filter((d) => d.kind === kind);
      expect(of('Issuer').map((d) => d.metadata.name).sort()).toEqual(['bouncer-ca', 'bouncer-selfsigned']);
      expect(of('Certificate').map((d) => d.metadata.name).sort()).toEqual(['bouncer-ca', 'bouncer-tls']);
      const serving = of('Certificate').find((d) => d.metadata.name === 'bouncer-tls') as Manifest & { spec: { dnsNames: string[]; secretName: string } };
      expect(serving.spec.secretName).toBe('bouncer-tls');
      expect(serving.spec.dnsNames).toContain('bouncer.bouncer-system.svc');

      const container = (of('Deployment')[0] as Manifest & { spec: { template: { spec: { containers: { args: string[]; volumeMounts: unknown[] }[]; volumes: unknown[] } } } }).spec.template.spec;
      expect(container.containers[0]?.args).toEqual(expect.arrayContaining(['--tls-cert=/etc/bouncer/tls/tls.crt', '--tls-key=/etc/bouncer/tls/tls.key']));
      expect(container.containers[0]?.args.filter((a) => /manage-certs|service-name|webhook-name/.test(a))).toEqual([]);
      expect(container.containers[0]?.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/bouncer/tls', readOnly: true });
      expect(container.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'bouncer-tls' } });

      for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
        expect(of(kind)[0]?.metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': 'bouncer-system/bouncer-tls' });
      }
      // No Secret, Lease or webhook-configuration access is rendered (the base's objects stay
      // in this cluster: server-side apply does not prune); reading Namespaces stays.
      // The audit's own Lease and list rules, the replicated kinds' and the reports' stay.
      const clusterRoles = ['bouncer-audit', 'bouncer-inventory', 'bouncer-namespaces', 'bouncer-reports'];
      expect(of('ClusterRole').map((d) => d.metadata.name).sort()).toEqual(clusterRoles);
      expect(of('ClusterRoleBinding').map((d) => d.metadata.name).sort()).toEqual(clusterRoles);
      const resources = of('Role').flatMap((r) => (r.rules as { resources: string[] }[]).flatMap((rule) => rule.resources));
      // The Leases left are the audit's and the rollout controller's, not the certificates'.
      expect(resources.sort()).toEqual(['configmaps', 'events', 'events', 'leases', 'leases', 'leases', 'leases']);
      const leaseNames = of('Role').flatMap((r) => (r.rules as { resources: string[]; resourceNames?: string[] }[]).filter((rule) => rule.resources.includes('leases')).flatMap((rule) => rule.resourceNames ?? []));
      expect(leaseNames.sort()).toEqual(['bouncer-audit', 'bouncer-rollout']);
    });
  });

  describe('a tenant cannot label a namespace out of the webhooks', () => {
    const tenant = uniqueName('tenant');
    const control = uniqueName('control');
    const hook = uniqueName('bouncer-manifests');
    const webhook = external ? 'validate.bouncer.dev' : `validate.${hook}.bouncer.dev`;
    let bouncer: BouncerProcess | undefined;
    // Unique names: dry runs are audited too, and other files look pods up there by name.
    const tryPod = (namespace: string) => run(['create', '--dry-run=server', '-n', namespace, '-f', '-'], JSON.stringify(privilegedPod(uniqueName('escape'))));

    beforeAll(async () => {
      if (!external) bouncer = await startBouncer({ starter: inject('bundles').starter as string });
    });

    afterAll(async () => {
      if (external) return;
      await deleteWebhooks(kube, hook);
      await bouncer?.stop();
    });

    /** Locally: the committed configurations, pointed at a bouncer process by URL under a unique name. */
    function register(b: BouncerProcess): void {
      const caBundle = Buffer.from(b.caPem).toString('base64');
      const configs = documents(readFileSync('manifests/base/webhooks.yaml', 'utf8')).map((config) => ({
        ...config,
        metadata: { ...config.metadata, name: hook },
        webhooks: (config.webhooks as { name: string; clientConfig: { service: { path: string } } }[]).map((w) => ({
          ...w,
          name: w.name.replace(/\.bouncer\.dev$/, `.${hook}.bouncer.dev`),
          clientConfig: { url: `${b.url}${w.clientConfig.service.path}`, caBundle },
        })),
      }));
      ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: configs }));
    }

    it('the API server keeps kubernetes.io/metadata.name equal to the namespace name', () => {
      const namespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': 'kube-system' } } });
      ok(['create', '-f', '-'], JSON.stringify(namespace(tenant)));
      ok(['create', 'namespace', control]);
      // Accepted or refused, the label must not change.
      run(['label', 'namespace', tenant, 'kubernetes.io/metadata.name=kube-system', '--overwrite']);
      ok(['label', 'namespace', tenant, 'bouncer.dev/ignore=true', 'admission.bouncer.dev/skip=true']);
      const labels = (JSON.parse(ok(['get', 'namespace', tenant, '-o', 'json']).stdout) as Manifest).metadata.labels;
      expect(labels).toMatchObject({ 'kubernetes.io/metadata.name': tenant, 'bouncer.dev/ignore': 'true', 'admission.bouncer.dev/skip': 'true' });
    });

    it('a privileged pod there is still denied through the committed webhook configurations', async () => {
      try {
        if (!external) {
          if (!bouncer) throw new Error('bouncer did not start');
          register(bouncer);
        }
        // Registration takes effect asynchronously; an unlabelled namespace shows when it has.
        const deadline = Date.now() + 30_000;
        while (!tryPod(control).stderr.includes('[disallow-privileged]')) {
          if (Date.now() > deadline) throw new Error(`the webhook never denied in ${control}:\n${bouncer?.logs() ?? ''}`);
          await sleep(200);
        }
        const denied = tryPod(tenant);
        expect(denied.code).not.toBe(0);
        expect(denied.stderr).toContain(`admission webhook "${webhook}" denied the request`);
        expect(denied.stderr).toContain('[disallow-privileged] container "app" is privileged');
        // The exclusion itself is live: the real kube-system is not sent to bouncer.
        expect(tryPod('kube-system').code).toBe(0);
      } finally {
        if (!external) await deleteWebhooks(kube, hook);
      }
    });
  });
});
