// charts/bouncer against the real API server of the e2e control plane, with the pinned Helm:
// every documented combination of values renders to objects the API server accepts (server-side
// apply, dry run), and `helm install`, `helm upgrade` and `helm uninstall` work.
//
// No kubelet runs here: objects are accepted, pods never run, nothing serves the webhooks.
// So the release is installed with the validating webhook on Ignore, and the upgrade (which
// must change what is stored) turns it to Fail: a matched write is then refused, as on a
// cluster whose bouncer pods are gone. The pre-delete hook Job cannot run either, so the test
// does what the kubelet and the Job controller would: it runs the Job's command
// (`bouncer uninstall --webhooks-only`, in-process) with a token of the hook's own service
// account — proving its RBAC is enough — and then marks the Job complete, which is what Helm
// waits for. Right after `helm uninstall` the write that was refused succeeds.
// Also: a kustomize installation adopted by `helm install --take-ownership`, and the kustomize
// uninstall order of docs/helm.md run as written.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main as cli } from '../../src/cli/main.js';
import { CHART, COMBINATIONS, documents, helm, helmBinary, setJson, type K8sObject } from '../support/helm.js';
import { kubectl, type KubectlResult } from '../support/kubectl.js';
import { uniqueName } from '../support/kube.js';

const SELECTOR = 'app.kubernetes.io/name=bouncer';
const CLUSTER_KINDS = 'clusterroles,clusterrolebindings,priorityclasses,validatingwebhookconfigurations,mutatingwebhookconfigurations';
const REPORT_CRDS = ['reports.openreports.io', 'clusterreports.openreports.io'];

describe.skipIf(inject('externalCluster'))('charts/bouncer on a real API server', () => {
  const state = inject('controlPlane');
  const home = mkdtempSync(join(tmpdir(), 'bouncer-helm-e2e-'));
  const run = (args: string[], input?: string): KubectlResult => kubectl(state, args, input);
  const ok = (args: string[], input?: string): KubectlResult => {
    const result = run(args, input);
    expect(result.code, `kubectl ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result;
  };
  const helmOk = (args: string[]) => {
    const result = helm(args, { home, kubeconfig: state.kubeconfig, timeoutMs: 120_000 });
    expect(result.code, `helm ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result;
  };
  const get = (what: string[]) => JSON.parse(ok(['get', ...what, '-o', 'json']).stdout) as K8sObject & Record<string, never> & { spec: Record<string, unknown>; webhooks: Record<string, unknown>[] };
  /** bouncer's cluster-wide objects not installed by Helm (manifests/ applied by other files): Helm refuses to adopt them. */
  const removeForeignLeftovers = () => {
    ok(['delete', CLUSTER_KINDS, '-l', `${SELECTOR},app.kubernetes.io/managed-by!=Helm`, '--ignore-not-found', '--wait=false']);
    for (const crd of REPORT_CRDS) {
      const found = run(['get', 'crd', crd, '-o', 'jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}']);
      if (found.code === 0 && found.stdout !== 'Helm') ok(['delete', 'crd', crd, '--ignore-not-found']);
    }
  };
  /** A write the validating webhook matches (a Namespace, dry run): 'allowed' or the refusal. */
  const write = () => {
    const result = run(['create', 'namespace', uniqueName('helm-probe'), '--dry-run=server']);
    return result.code === 0 ? 'allowed' : result.stderr;
  };

  beforeAll(() => {
    helmBinary();
    ok(['apply', '--server-side', '-f', 'test/fixtures/crds/']);
    ok(['wait', '--for=condition=Established', '--timeout=30s', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com', 'crd/certificates.cert-manager.io', 'crd/issuers.cert-manager.io']);
  }, 900_000);

  afterAll(() => {
    run(['delete', CLUSTER_KINDS, '-l', `${SELECTOR},app.kubernetes.io/managed-by=Helm`, '--ignore-not-found']);
    for (const crd of REPORT_CRDS) run(['delete', 'crd', crd, '--ignore-not-found', '--wait=false']);
    rmSync(home, { recursive: true, force: true });
  });

  describe('every documented combination is accepted by the API server (server-side apply, dry run)', () => {
    const namespace = uniqueName('bouncer-helm-dry');
    const applied = new Map<string, { rendered: string; result: Promise<KubectlResult> }>();
    /** kubectl without waiting for it: the dry runs of all combinations go to the API server at once. */
    const kubectlAsync = (args: string[], input: string) =>
      new Promise<KubectlResult>((resolve) => {
        const child = spawn(state.kubectl, args, { env: { ...process.env, KUBECONFIG: state.kubeconfig } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(input);
      });
    beforeAll(() => {
      for (const ns of [namespace, 'bouncer-bundles']) {
        run(['create', 'namespace', ns]);
        // As docs/helm.md says: bouncer's namespace enforces the restricted profile.
        ok(['label', '--overwrite', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
      }
      for (const [name, values] of Object.entries(COMBINATIONS)) {
        const rendered = helmOk(['template', 'bouncer', CHART, '--namespace', namespace, ...setJson(values)]).stdout;
        applied.set(name, { rendered, result: kubectlAsync(['apply', '--server-side', '--dry-run=server', '--force-conflicts', '--field-manager=bouncer-helm-e2e', '-f', '-'], rendered) });
      }
    });

    it.each(Object.keys(COMBINATIONS))('%s', async (name) => {
      const { rendered, result } = applied.get(name) ?? { rendered: '', result: Promise.reject(new Error(`${name} was not applied`)) };
      const done = await result;
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout.trim().split('\n')).toHaveLength(documents(rendered).length);
      // Deployment and hook Job pods meet the namespace's restricted Pod Security profile.
      expect(done.stderr).not.toContain('PodSecurity');
    });
  });

  describe('helm install, upgrade, uninstall', () => {
    const namespace = uniqueName('bouncer-helm');
    const release = ['--namespace', namespace];

    beforeAll(() => {
      removeForeignLeftovers();
      ok(['create', 'namespace', namespace]);
      ok(['label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted']);
    });

    it('warns, in its notes, when the namespace does not enforce the restricted Pod Security profile', () => {
      const bare = uniqueName('bouncer-helm-bare');
      ok(['create', 'namespace', bare]);
      const dry = helmOk(['install', 'bouncer', CHART, '--namespace', bare, '--dry-run=server']);
      expect(dry.stdout).toContain(`WARNING: namespace ${bare} does not enforce the restricted Pod Security profile`);
    });

    it('refuses bad values at install, before anything reaches the cluster', () => {
      const result = helm(['install', 'bouncer', CHART, ...release, '--set', 'replica=2', '--set', 'webhooks.validating.failurePolicy=fail'], { home, kubeconfig: state.kubeconfig });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("- at '/webhooks/validating/failurePolicy': value must be one of 'Fail', 'Ignore'");
      expect(result.stderr).toContain("- at '': additional properties 'replica' not allowed");
      expect(helm(['status', 'bouncer', ...release], { home, kubeconfig: state.kubeconfig }).stderr).toContain('release: not found');
      expect(run(['get', 'deployment', 'bouncer', '-n', namespace]).code).not.toBe(0);
    });

    it('installs: every object of the release is stored, the Deployment as rendered', () => {
      const installed = helmOk(['install', 'bouncer', CHART, ...release, '--set', 'webhooks.validating.failurePolicy=Ignore']);
      // The notes name the bundle to push; the namespace enforces the restricted profile, so no warning.
      expect(installed.stdout).toContain(`npx bouncer push baseline.tar.gz --name baseline -n ${namespace}`);
      expect(installed.stdout).not.toContain('WARNING');
      const manifest = documents(helmOk(['get', 'manifest', 'bouncer', ...release]).stdout);
      expect(manifest.length).toBeGreaterThan(25);
      for (const o of manifest) ok(['get', o.kind, o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : [])]);
      const deployment = get(['deployment', 'bouncer', '-n', namespace]);
      expect(deployment.spec.replicas).toBe(3);
      expect(deployment.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'bouncer' });
      expect(write()).toBe('allowed');
    });

    it('upgrades: changed values are applied; the caBundle bouncer injected survives; the Fail webhook without a backend refuses writes', async () => {
      // What --manage-certs does: a JSON Patch of the caBundle alone, under bouncer's own field manager.
      const caBundle = Buffer.from(state.caCertPem).toString('base64');
      ok(['patch', 'validatingwebhookconfiguration', 'bouncer', '--type=json', '--field-manager=bouncer', '-p', JSON.stringify([{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: caBundle }])]);
      helmOk(['upgrade', 'bouncer', CHART, ...release, '--reuse-values', '--set', 'replicas=2', '--set', 'webhooks.timeoutSeconds=7', '--set', 'webhooks.validating.failurePolicy=Fail']);
      expect(helmOk(['history', 'bouncer', ...release, '-o', 'json']).stdout).toContain('"revision":2');
      expect(get(['deployment', 'bouncer', '-n', namespace]).spec.replicas).toBe(2);
      const validating = get(['validatingwebhookconfiguration', 'bouncer']).webhooks[0] as { timeoutSeconds: number; failurePolicy: string; clientConfig: { caBundle?: string } };
      expect(validating).toMatchObject({ timeoutSeconds: 7, failurePolicy: 'Fail' });
      expect(validating.clientConfig.caBundle).toBe(caBundle);
      // The API server picks the change up asynchronously.
      const deadline = Date.now() + 30_000;
      while (write() === 'allowed') {
        if (Date.now() > deadline) throw new Error('the Fail webhook never refused a write');
        await sleep(200);
      }
      expect(write()).toContain('failed calling webhook "validate.bouncer.dev"');
    });

    it('uninstalls through the pre-delete hook: webhooks first, then the rest; the next write succeeds; the report CRDs are kept', async () => {
      const child = spawn(helmBinary(), ['uninstall', 'bouncer', ...release, '--timeout', '90s'], {
        env: { PATH: process.env.PATH ?? '', HOME: home, HELM_CONFIG_HOME: `${home}/config`, HELM_CACHE_HOME: `${home}/cache`, HELM_DATA_HOME: `${home}/data`, KUBECONFIG: state.kubeconfig },
      });
      let helmOut = '';
      child.stdout.on('data', (c: Buffer) => (helmOut += c.toString()));
      child.stderr.on('data', (c: Buffer) => (helmOut += c.toString()));
      const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
      try {
        // Helm creates the hook's account and RBAC, then its Job, and waits for the Job.
        const deadline = Date.now() + 30_000;
        while (run(['get', 'job', 'bouncer-uninstall', '-n', namespace]).code !== 0) {
          if (Date.now() > deadline) throw new Error(`no hook Job:\n${helmOut}`);
          await sleep(200);
        }
        const job = get(['job', 'bouncer-uninstall', '-n', namespace]) as unknown as { spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } } };
        const pod = job.spec.template.spec;
        // Nothing is deleted before the hook ran.
        ok(['get', 'validatingwebhookconfiguration', 'bouncer']);
        ok(['get', 'deployment', 'bouncer', '-n', namespace]);

        // The kubelet's part: the Job's container, with its service account's token.
        const token = ok(['create', 'token', pod.serviceAccountName, '-n', namespace]).stdout.trim();
        const kubeconfig = join(home, 'hook-kubeconfig');
        writeFileSync(kubeconfig, stringify({
          apiVersion: 'v1', kind: 'Config', 'current-context': 'hook',
          clusters: [{ name: 'local', cluster: { server: state.server, 'certificate-authority': state.caFile } }],
          users: [{ name: 'hook', user: { token } }],
          contexts: [{ name: 'hook', context: { cluster: 'local', user: 'hook' } }],
        }), { mode: 0o600 });
        let out = '';
        const code = await cli([...(pod.containers[0]?.args ?? []), '--json'], { env: { KUBECONFIG: kubeconfig }, stdout: (t) => (out += t), stderr: (t) => (out += t) });
        expect(code, out).toBe(0);
        expect(JSON.parse(out)).toEqual({ webhooks: ['validatingwebhookconfiguration/bouncer', 'mutatingwebhookconfiguration/bouncer'], stoppedBy: 'metrics', deleted: [] });
        // The write is allowed again while the rest of the release still exists.
        expect(write()).toBe('allowed');
        ok(['get', 'deployment', 'bouncer', '-n', namespace]);

        // The Job controller's part: the Job succeeded (the conditions the API server requires with Complete).
        const now = new Date().toISOString();
        ok(['patch', 'job', 'bouncer-uninstall', '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({
          status: {
            startTime: now, completionTime: now, succeeded: 1,
            conditions: [
              { type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: now, lastProbeTime: now, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
              { type: 'Complete', status: 'True', lastTransitionTime: now, lastProbeTime: now, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
            ],
          },
        })]);
        expect(await exited, helmOut).toBe(0);
      } finally {
        child.kill();
      }
      expect(helmOut).toContain('release "bouncer" uninstalled');
      expect(write()).toBe('allowed');
      for (const kind of ['deployment', 'service', 'serviceaccount', 'role', 'rolebinding', 'networkpolicy', 'poddisruptionbudget', 'job']) {
        expect(ok(['get', kind, '-n', namespace, '-l', SELECTOR, '-o', 'name']).stdout, kind).toBe('');
      }
      expect(ok(['get', CLUSTER_KINDS, '-l', `${SELECTOR},app.kubernetes.io/instance=bouncer`, '-o', 'name']).stdout).toBe('');
      for (const crd of REPORT_CRDS) ok(['get', 'crd', crd]);
    });
  });
  describe('moving from manifests/base to the chart', () => {
    it('helm install --take-ownership --force-conflicts adopts what kubectl apply -k installed, and the same objects stay', async () => {
      removeForeignLeftovers();
      const base = ok(['kustomize', 'manifests/base']).stdout;
      // --force-conflicts: other files may have applied the base under their own field manager.
      ok(['apply', '--server-side', '--force-conflicts', '--field-manager=kubectl', '-f', '-'], base);
      try {
        const before = get(['deployment', 'bouncer', '-n', 'bouncer-system']);
        helmOk(['install', 'bouncer', CHART, '--namespace', 'bouncer-system', '--take-ownership', '--force-conflicts', '--set', 'uninstallHook.enabled=false']);
        const after = get(['deployment', 'bouncer', '-n', 'bouncer-system']);
        // The same Deployment, updated in place (no recreation), now Helm's.
        expect(after.metadata.uid).toBe(before.metadata.uid);
        expect(after.metadata.annotations).toMatchObject({ 'meta.helm.sh/release-name': 'bouncer', 'meta.helm.sh/release-namespace': 'bouncer-system' });
        for (const o of documents(base).filter((d) => d.kind !== 'Namespace')) {
          const stored = get([o.kind, o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : [])]);
          expect(stored.metadata.labels?.['app.kubernetes.io/managed-by'], `${o.kind}/${o.metadata.name}`).toBe('Helm');
        }
      } finally {
        // Without the hook (no kubelet): the webhooks first, as its Job would, then Helm.
        let out = '';
        await cli(['uninstall', '--webhooks-only', '-n', 'bouncer-system'], { env: { KUBECONFIG: state.kubeconfig }, stdout: (t) => (out += t), stderr: (t) => (out += t) });
        helm(['uninstall', 'bouncer', '--namespace', 'bouncer-system'], { home, kubeconfig: state.kubeconfig, timeoutMs: 120_000 });
      }
      expect(write()).toBe('allowed');
      expect(run(['get', 'deployment', 'bouncer', '-n', 'bouncer-system']).code).not.toBe(0);
    });
  });

  describe('the kustomize uninstall order of docs/helm.md, as written', () => {
    // A Fail webhook without a backend left behind would block every later file's writes.
    afterAll(() => {
      run(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', 'bouncer', '--ignore-not-found']);
    });

    it('relaxes and deletes the webhooks of manifests/base; the write their Fail webhook refused succeeds at once', async () => {
      const page = readFileSync('docs/helm.md', 'utf8');
      const block = /### With kustomize[\s\S]*?```sh\n([\s\S]*?)```/.exec(page)?.[1] ?? '';
      const steps = block.slice(0, block.indexOf('# 3.'));
      expect(steps).toContain('kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration bouncer');
      ok(['apply', '--server-side', '--field-manager=bouncer-helm-e2e', '-f', 'manifests/base/webhooks.yaml']);
      // Nothing serves bouncer-system/bouncer here: the validating webhook fails closed.
      const deadline = Date.now() + 30_000;
      while (write() === 'allowed') {
        if (Date.now() > deadline) throw new Error('the Fail webhook of manifests/base never refused a write');
        await sleep(200);
      }
      const result = spawnSync('bash', ['-euo', 'pipefail', '-c', steps], {
        encoding: 'utf8',
        timeout: 60_000,
        // HOME too: without one, kubectl writes its discovery cache to ./.kube of the working directory.
        env: { PATH: `${dirname(state.kubectl)}:${process.env.PATH ?? ''}`, KUBECONFIG: state.kubeconfig, HOME: home },
      });
      expect(result.status, result.stderr).toBe(0);
      // Step 2's command shows the API server's calls to the webhook (the count to watch).
      expect(result.stdout).toMatch(/^apiserver_admission_webhook_admission_duration_seconds_count\{.*name="validate\.bouncer\.dev".*\} \d+$/m);
      // Relaxed before it was deleted: no write fails while the API server still holds the configuration.
      expect(write()).toBe('allowed');
      expect(run(['get', 'validatingwebhookconfiguration', 'bouncer']).code).not.toBe(0);
    });
  });
});
