// charts/bouncer with the pinned Helm: it lints and renders for the defaults and every
// documented combination (test/support/helm.ts COMBINATIONS, listed in docs/helm.md), its
// default render holds exactly the objects of manifests/base (and with cert-manager or
// monitoring on, of the overlays) once Helm's own labels are dropped, and values.schema.json
// refuses typos and wrong types with a message naming the key.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTools, requireTool } from '../../hack/lib/tools.js';
import { valuesTable } from '../../hack/lib/helm-values-doc.js';
import { byKey, CHART, COMBINATIONS, documents, helm, helmBinary, key, setJson, type K8sObject } from '../support/helm.js';
import { spawnSync } from 'node:child_process';
import { readSettings } from '../../src/config/settings.js';
import { SERVE_SETTINGS } from '../../src/config/serve-settings.js';

const NS = 'bouncer-system';
// Rendered YAML, read along paths the assertions name.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Rendered = any;

describe('charts/bouncer', () => {
  const home = mkdtempSync(join(tmpdir(), 'bouncer-helm-'));
  let kubectlPath = '';
  const run = (args: string[]) => helm(args, { home });
  const template = (values: Record<string, unknown>, extra: string[] = []) => {
    const result = run(['template', 'bouncer', CHART, '--namespace', NS, ...setJson(values), ...extra]);
    expect(result.code, result.stderr).toBe(0);
    return documents(result.stdout);
  };
  const kustomize = (dir: string) => {
    const result = spawnSync(kubectlPath, ['kustomize', dir], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    // The chart installs into an existing namespace (Helm cannot create the one it records the release in).
    return documents(result.stdout).filter((o) => o.kind !== 'Namespace');
  };

  beforeAll(() => {
    helmBinary();
    kubectlPath = requireTool(ensureTools('kubectl'), 'KUBECTL');
  }, 900_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('is the pinned Helm', () => {
    const pinned = /helm\.sh\/helm\/v4 (v\S+)/.exec(readFileSync('hack/tools/helm/go.mod', 'utf8'))?.[1];
    expect(run(['version', '--template', '{{.Version}}']).stdout).toBe(pinned);
  });

  it.each(Object.entries(COMBINATIONS))('helm lint --strict: %s', (_, values) => {
    const result = run(['lint', '--strict', CHART, '--namespace', NS, ...setJson(values)]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it.each(Object.entries(COMBINATIONS))('helm template: %s renders objects all labelled as bouncer\'s, none twice', (_, values) => {
    const objects = template(values);
    expect(objects.length).toBeGreaterThan(10);
    expect(new Set(objects.map(key)).size).toBe(objects.length);
    for (const o of objects) expect(o.metadata.labels?.['app.kubernetes.io/name'], key(o)).toBe('bouncer');
  });

  it.each(Object.entries(COMBINATIONS))('%s: every flag the Deployment passes is one `bouncer serve` accepts, with a valid value', (_, values) => {
    const deployment = template(values).find((o) => o.kind === 'Deployment') as K8sObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const [command, ...argv] = deployment.spec.template.spec.containers[0]?.args ?? [];
    expect(command).toBe('serve');
    // The kubelet expands $(VAR) from the container's env (POD_NAME, POD_NAMESPACE from the downward API).
    const expanded = argv.map((a) => a.replace('$(POD_NAMESPACE)', NS).replace('$(POD_NAME)', 'bouncer-0'));
    const read = readSettings(SERVE_SETTINGS, expanded, {}, 'usage');
    expect(read.given.size).toBe(new Set(expanded.map((a) => a.replace(/=.*/, ''))).size);
  });

  describe('holds the same objects as manifests/', () => {
    const compare = (chart: K8sObject[], base: K8sObject[]) => {
      const ours = byKey(chart);
      const theirs = byKey(base);
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      // Whole objects: kinds, names, RBAC rules, securityContext, probes, args, failure policies, webhook rules, selectors.
      for (const [k, object] of theirs) expect(ours.get(k), k).toEqual(object);
    };

    it('default values: manifests/base (less its Namespace)', () => {
      compare(template({}), kustomize('manifests/base'));
    });

    it('certificates.mode=cert-manager: manifests/overlays/cert-manager', () => {
      compare(template(COMBINATIONS['cert-manager, own CA'] ?? {}), kustomize('manifests/overlays/cert-manager'));
    });

    it('ServiceMonitor, PrometheusRule and dashboards on: manifests/overlays/monitoring', () => {
      compare(template({ monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, dashboards: { enabled: true } } }), kustomize('manifests/overlays/monitoring'));
    });
  });

  describe('values', () => {
    const find = (objects: K8sObject[], kind: string, name: string) => {
      const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
      if (!o) throw new Error(`no ${kind} ${name} in ${objects.map(key).join(', ')}`);
      return o as K8sObject & Record<string, Rendered>;
    };
    const args = (objects: K8sObject[]): string[] => find(objects, 'Deployment', 'bouncer').spec.template.spec.containers[0].args;
    const webhooks = (objects: K8sObject[]) => objects.filter((o) => o.kind.endsWith('WebhookConfiguration')).flatMap((o) => (o as Rendered).webhooks as Record<string, Rendered>[]);

    it('failure policy, timeout and exclusions reach every webhook; the release namespace is always excluded; the rules stay the base\'s', () => {
      const base = documents(readFileSync('manifests/base/webhooks.yaml', 'utf8'));
      const objects = template({ webhooks: { validating: { failurePolicy: 'Ignore' }, mutating: { failurePolicy: 'Fail' }, timeoutSeconds: 12, excludedNamespaces: ['istio-system'] } }, ['--namespace', 'policy']);
      for (const w of webhooks(objects)) {
        expect(w.failurePolicy).toBe(w.name.startsWith('validate') ? 'Ignore' : 'Fail');
        expect(w.timeoutSeconds).toBe(12);
        expect(w.clientConfig.service).toEqual({ namespace: 'policy', name: 'bouncer', path: w.name.startsWith('validate') ? '/validate' : '/mutate', port: 443 });
        expect(w.namespaceSelector).toEqual({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['istio-system', 'policy'] }] });
      }
      const rules = (hooks: Record<string, Rendered>[]) => Object.fromEntries(hooks.map((w) => [w.name, w.rules]));
      expect(rules(webhooks(objects))).toEqual(rules(webhooks(base)));
      // The audit skips what the webhooks exclude (it skips kube-system, kube-node-lease and its own namespace anyway).
      expect(args(objects).filter((a) => a.startsWith('--audit-exclude-namespace'))).toEqual(['--audit-exclude-namespace=istio-system']);
      const withSystem = template({ webhooks: { excludedNamespaces: ['kube-system', 'legacy', 'kube-node-lease'] } });
      expect(args(withSystem).filter((a) => a.startsWith('--audit-exclude-namespace'))).toEqual(['--audit-exclude-namespace=legacy']);
    });

    it('cert-manager with an existing issuer: only the serving Certificate, signed by it; no certificate RBAC; the Secret mounted', () => {
      const objects = template(COMBINATIONS['cert-manager, existing ClusterIssuer'] ?? {});
      expect(objects.filter((o) => o.apiVersion.startsWith('cert-manager.io')).map(key)).toEqual([`Certificate/${NS}/bouncer-tls`]);
      expect(find(objects, 'Certificate', 'bouncer-tls').spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'corp-ca' });
      expect(objects.filter((o) => /certs|webhook-ca/.test(o.metadata.name)).map(key)).toEqual([]);
      expect(args(objects)).toContain('--tls-cert=/etc/bouncer/tls/tls.crt');
      for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
        expect(find(objects, kind, 'bouncer').metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': `${NS}/bouncer-tls` });
      }
    });

    it('monitoring: the release labels, the PrometheusRule of the overlay verbatim (Prometheus templates untouched), one dashboard ConfigMap per JSON file', () => {
      const objects = template(COMBINATIONS.monitoring ?? {});
      expect(find(objects, 'ServiceMonitor', 'bouncer').metadata.labels?.release).toBe('kube-prometheus-stack');
      const rule = find(objects, 'PrometheusRule', 'bouncer');
      expect(rule.metadata.labels?.release).toBe('kube-prometheus-stack');
      const source = documents(readFileSync('manifests/overlays/monitoring/prometheus-rule.yaml', 'utf8'))[0] as K8sObject & Record<string, Rendered>;
      expect(rule.spec).toEqual(source.spec);
      expect(JSON.stringify(rule.spec)).toContain('{{ $labels.namespace }}');
      const dashboards = objects.filter((o) => o.kind === 'ConfigMap');
      expect(dashboards.map((d) => d.metadata.name).sort()).toEqual(['bouncer-dashboard-debug', 'bouncer-dashboard-executive', 'bouncer-dashboard-oncall']);
      for (const d of dashboards as (K8sObject & { data: Record<string, string> })[]) {
        const [file, json] = Object.entries(d.data)[0] ?? [];
        expect(json).toBe(readFileSync(`manifests/overlays/monitoring/dashboards/${file}`, 'utf8'));
        expect(d.metadata.labels?.grafana_dashboard).toBe('1');
      }
    });

    it('decision log: the sink flags, a spool volume sized for its bound, egress to the sink port', () => {
      const objects = template(COMBINATIONS['decision log'] ?? {});
      expect(args(objects)).toEqual(expect.arrayContaining(['--decision-log-url=https://decisions.example.com:8443/logs', '--decision-log-spool=/var/spool/bouncer/decisions', '--decision-log-spool-max-mb=128', '--decision-log-input', '--decision-log-mask=/spec/token']));
      const pod = find(objects, 'Deployment', 'bouncer').spec.template.spec;
      expect(pod.volumes).toContainEqual({ name: 'decision-spool', emptyDir: { sizeLimit: '144Mi' } });
      expect(find(objects, 'NetworkPolicy', 'bouncer').spec.egress).toContainEqual({ ports: [{ port: 8443, protocol: 'TCP' }] });
    });

    it('audit off: no audit or report RBAC, --audit=off; wgpolicyk8s: its CRDs instead of openreports\', kept on uninstall', () => {
      const off = template(COMBINATIONS['audit off'] ?? {});
      expect(off.filter((o) => /audit|reports/.test(o.metadata.name)).map(key)).toEqual([]);
      expect(args(off)).toContain('--audit=off');
      const wg = template(COMBINATIONS['wgpolicyk8s reports'] ?? {});
      const crds = wg.filter((o) => o.kind === 'CustomResourceDefinition');
      expect(crds.map((c) => c.metadata.name).sort()).toEqual(['clusterpolicyreports.wgpolicyk8s.io', 'policyreports.wgpolicyk8s.io']);
      for (const c of crds) expect(c.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
      expect(args(wg)).toContain('--audit-reports=wgpolicyk8s');
    });

    it('bundles in another namespace: its Roles there, watched and excluded from the webhooks', () => {
      const objects = template(COMBINATIONS['bundles elsewhere'] ?? {});
      expect(objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.namespace)).toEqual(['bouncer-bundles', 'bouncer-bundles', 'bouncer-bundles']);
      expect(args(objects)).toEqual(expect.arrayContaining(['--watch-namespace=bouncer-bundles', '--require-bundle=baseline', '--require-bundle=tenants']));
      for (const w of webhooks(objects)) expect(w.namespaceSelector.matchExpressions[0].values).toEqual(['kube-system', 'kube-node-lease', NS, 'bouncer-bundles']);
    });

    it('custom policies: their validating rules replace the shipped ones (the mutating stay); extra rules extend the inventory and audit roles', () => {
      const objects = template(COMBINATIONS['custom policies'] ?? {});
      const base = documents(readFileSync('manifests/base/webhooks.yaml', 'utf8'));
      const hooks = Object.fromEntries(webhooks(objects).map((w) => [w.name, w.rules]));
      expect(hooks['validate.bouncer.dev']).toEqual([{ apiGroups: ['networking.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['ingresses'], scope: '*' }]);
      expect(hooks['mutate.bouncer.dev']).toEqual(webhooks(base).find((w) => w.name === 'mutate.bouncer.dev')?.rules);
      expect(find(objects, 'ClusterRole', 'bouncer-inventory').rules).toEqual([{ apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch'] }]);
      expect(find(objects, 'ClusterRole', 'bouncer-audit').rules).toContainEqual({ apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['list'] });
    });

    it('minimal: no NetworkPolicy, PDB, PriorityClass or hook; pinned image: by digest', () => {
      const minimal = template(COMBINATIONS.minimal ?? {});
      expect(minimal.filter((o) => ['NetworkPolicy', 'PodDisruptionBudget', 'PriorityClass', 'Job'].includes(o.kind)).map(key)).toEqual([]);
      expect(find(minimal, 'Deployment', 'bouncer').spec.template.spec.priorityClassName).toBeUndefined();
      const pinned = find(template(COMBINATIONS['pinned image'] ?? {}), 'Deployment', 'bouncer').spec.template.spec;
      expect(pinned.containers[0].image).toBe(`registry.example.com/bouncer@sha256:${'ab'.repeat(32)}`);
      expect(pinned.imagePullSecrets).toEqual([{ name: 'registry' }]);
    });

    it('the uninstall hook: a pre-delete Job running `bouncer uninstall --webhooks-only` under an account that may only remove the webhooks', () => {
      const hooks = template({}).filter((o) => o.metadata.annotations?.['helm.sh/hook']);
      expect(hooks.map(key).sort()).toEqual(['ClusterRole//bouncer-uninstall', 'ClusterRoleBinding//bouncer-uninstall', `Job/${NS}/bouncer-uninstall`, `ServiceAccount/${NS}/bouncer-uninstall`]);
      for (const h of hooks) expect(h.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-delete', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' });
      const job = find(hooks, 'Job', 'bouncer-uninstall');
      expect(job.spec.template.spec.containers[0].args).toEqual(['uninstall', '--webhooks-only', `--namespace=${NS}`, '--timeout=60s']);
      expect(job.spec.template.spec.serviceAccountName).toBe('bouncer-uninstall');
      expect(find(hooks, 'ClusterRole', 'bouncer-uninstall').rules).toEqual([
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'], verbs: ['list'] },
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'], resourceNames: ['bouncer'], verbs: ['patch', 'delete'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['create'] },
        { nonResourceURLs: ['/metrics'], verbs: ['get'] },
      ]);
    });
  });

  describe('values.schema.json refuses bad values at template (and install) time', () => {
    const refused: [string, string[], RegExp][] = [
      ['a typo at the top', ['--set', 'replica=2'], /additional properties? 'replica' not allowed/],
      ['a typo inside a group', ['--set', 'webhooks.failurePolicy=Ignore'], /at '\/webhooks'.*additional properties? 'failurePolicy' not allowed/s],
      ['a string for a number', ['--set-string', 'replicas=three'], /at '\/replicas'.*got string, want integer/s],
      ['zero replicas', ['--set', 'replicas=0'], /at '\/replicas'.*minimum/s],
      ['an unknown failure policy', ['--set', 'webhooks.validating.failurePolicy=fail'], /at '\/webhooks\/validating\/failurePolicy'.*'Fail', 'Ignore'/s],
      ['a timeout the API server refuses', ['--set', 'webhooks.timeoutSeconds=31'], /at '\/webhooks\/timeoutSeconds'.*maximum/s],
      ['an unknown certificate mode', ['--set', 'certificates.mode=vault'], /at '\/certificates\/mode'.*'self-managed', 'cert-manager'/s],
      ['a sink that is not http(s)', ['--set', 'decisionLog.url=ftp://logs'], /at '\/decisionLog\/url'.*does not match pattern/s],
      ['a bad duration', ['--set', 'audit.interval=hourly'], /at '\/audit\/interval'.*does not match pattern/s],
      ['a namespace that is no DNS label', ['--set', 'webhooks.excludedNamespaces[0]=Kube_System'], /at '\/webhooks\/excludedNamespaces\/0'.*does not match pattern/s],
      ['a webhook rule with an unknown operation', ['--set-json', 'webhooks.validating.rules=[{"apiGroups":[""],"apiVersions":["v1"],"operations":["PATCH"],"resources":["pods"]}]'], /at '\/webhooks\/validating\/rules\/0\/operations\/0'.*'CREATE'/s],
      ['an RBAC rule without verbs', ['--set-json', 'inventory.extraRules=[{"apiGroups":[""],"resources":["services"]}]'], /at '\/inventory\/extraRules\/0'.*missing property 'verbs'/s],
    ];
    it.each(refused)('%s', (_, flags, message) => {
      const result = run(['template', 'bouncer', CHART, '--namespace', NS, ...flags]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('values don\'t meet the specifications of the schema(s)');
      expect(result.stderr).toMatch(message);
    });
  });

  it('packaged (helm package), the chart holds the linked files themselves and renders the same', () => {
    const out = join(home, 'package');
    const packaged = run(['package', CHART, '--destination', out]);
    expect(packaged.code, packaged.stderr).toBe(0);
    const archive = join(out, 'bouncer-0.1.0.tgz');
    const listing = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' }).stdout.split('\n');
    expect(listing).toEqual(expect.arrayContaining(['bouncer/files/webhooks.yaml', 'bouncer/files/crds/openreports.io_reports.yaml', 'bouncer/files/dashboards/oncall.json']));
    expect(listing).not.toContain('bouncer/files/crds/kustomization.yaml');
    const values = COMBINATIONS.monitoring ?? {};
    const fromArchive = run(['template', 'bouncer', archive, '--namespace', NS, ...setJson(values)]);
    expect(fromArchive.code, fromArchive.stderr).toBe(0);
    expect(documents(fromArchive.stdout)).toEqual(template(values));
  });

  it('docs/helm.md lists exactly the combinations tested', () => {
    const page = readFileSync('docs/helm.md', 'utf8');
    const section = page.slice(page.indexOf('## Documented combinations'), page.indexOf('## Upgrade'));
    const names = [...section.matchAll(/^\| ([^|]+?) \|/gm)].map((m) => m[1]).filter((n) => n !== 'name' && !n?.startsWith('---'));
    expect(names).toEqual(Object.keys(COMBINATIONS));
  });

  it('docs/helm.md has the current values table', () => {
    expect(readFileSync('docs/helm.md', 'utf8'), 'regenerate it with: npx tsx hack/gen-helm-docs.ts').toContain(valuesTable());
  });
});
