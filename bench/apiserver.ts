// bouncer's cost as the API server's clients see it: create (and update) N objects through
// a real kube-apiserver with and without bouncer registered, and report the added latency
// as a percentage of the API server's own request latency. Pods and ConfigMaps, dry-run
// creates and real updates, sequential (one client), after a warm-up.
//   npx tsx bench/apiserver.ts [--requests 400] [--reps 3] [--bouncer-arg=--workers=0 ...]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { startBouncer } from '../hack/lib/bouncer-process.js';
import { startControlPlane, stopControlPlane } from '../hack/lib/control-plane.js';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { buildBundle } from '../src/authoring/build.js';
import { webhookConfigurations } from '../src/authoring/webhook-config.js';
import { loadBundle } from '../src/bundles/bundle.js';

const { values } = parseArgs({ options: { requests: { type: 'string' }, reps: { type: 'string' }, 'bouncer-arg': { type: 'string', multiple: true } } });
const N = Number(values.requests ?? 400);
const REPS = Number(values.reps ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'bouncer-bench-apiserver-'));
const state = await startControlPlane({ dir: join(dir, 'cp'), log: () => undefined });
const bundleFile = join(dir, 'starter.tar.gz');
await buildBundle({ policiesDir: 'policies', output: bundleFile, opa: requireTool(ensureTools('opa'), 'OPA') });
const kc = new KubeConfig();
kc.loadFromFile(state.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
await core.createNamespace({ body: { metadata: { name: 'bench' } } });

const pod = (name: string) => ({
  metadata: { name },
  spec: {
    securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '50m', memory: '32Mi' } } }],
  },
});

async function measure(tag: string): Promise<{ podCreate: number; cmUpdate: number }> {
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const creates: number[] = [];
  const updates: number[] = [];
  await core.createNamespacedConfigMap({ namespace: 'bench', body: { metadata: { name: `cm-${tag}` }, data: { n: '0' } } });
  for (let i = 0; i < N + 50; i++) {
    let t = performance.now();
    await core.createNamespacedPod({ namespace: 'bench', body: pod(`p-${tag}-${i}`), dryRun: 'All' });
    if (i >= 50) creates.push(performance.now() - t);
    t = performance.now();
    await core.replaceNamespacedConfigMap({ namespace: 'bench', name: `cm-${tag}`, body: { metadata: { name: `cm-${tag}` }, data: { n: String(i) } } });
    if (i >= 50) updates.push(performance.now() - t);
  }
  return { podCreate: p50(creates), cmUpdate: p50(updates) };
}

const bouncer = await startBouncer({ starter: bundleFile }, ['--log-level', 'warn', ...(values['bouncer-arg'] ?? []).flatMap((a) => a.split('='))]);
try {
const policies = (await loadBundle('starter', readFileSync(bundleFile))).policies.map((p) => p.meta);
const configs = webhookConfigurations(policies, {
  name: 'bench',
  clientConfig: (endpoint) => ({ url: `${bouncer.url}/${endpoint}`, caBundle: Buffer.from(bouncer.caPem).toString('base64') }),
  excludedNamespaces: [],
});
// ConfigMaps are not in the starter policies' scopes; register them too, so updates pay a webhook call.
const validating = configs.validating as { webhooks: { rules: unknown[] }[] };
validating.webhooks[0]?.rules.push({ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'], scope: '*' });
const results: { without: { podCreate: number; cmUpdate: number }; with: { podCreate: number; cmUpdate: number } }[] = [];
for (let rep = 0; rep < REPS; rep++) {
  await admission.deleteValidatingWebhookConfiguration({ name: 'bench' }).catch(() => undefined);
  await admission.deleteMutatingWebhookConfiguration({ name: 'bench' }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1500));
  const without = await measure(`a${rep}`);
  await admission.createValidatingWebhookConfiguration({ body: validating as never });
  await admission.createMutatingWebhookConfiguration({ body: configs.mutating as never });
  await new Promise((r) => setTimeout(r, 1500));
  const withBouncer = await measure(`b${rep}`);
  results.push({ without, with: withBouncer });
  process.stdout.write(`rep ${rep + 1}: ${JSON.stringify({ without, with: withBouncer })}\n`);
}
const pct = (a: number, b: number) => (((b - a) / a) * 100).toFixed(1);
process.stdout.write('\n| rep | Pod create (dry run) p50 without → with bouncer | added | ConfigMap update p50 without → with | added |\n|---|---|---|---|---|\n');
results.forEach((r, i) =>
  process.stdout.write(
    `| ${i + 1} | ${r.without.podCreate.toFixed(2)} → ${r.with.podCreate.toFixed(2)} ms | ${pct(r.without.podCreate, r.with.podCreate)} % | ${r.without.cmUpdate.toFixed(2)} → ${r.with.cmUpdate.toFixed(2)} ms | ${pct(r.without.cmUpdate, r.with.cmUpdate)} % |\n`,
  ),
);
} finally {
  await bouncer.stop();
  await stopControlPlane(join(dir, 'cp'));
  rmSync(dir, { recursive: true, force: true });
}
