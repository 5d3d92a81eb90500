// `npm start`: the whole thing on this machine. Builds the policies, starts the local
// control plane and bouncer, registers the validating and mutating webhooks (by URL with
// caBundle, rules rendered from the policies' scopes, the control plane's own namespaces
// excluded), prints what to try, and tears everything down on Ctrl-C.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, KubeConfig } from '@kubernetes/client-node';
import { buildBundle } from '../src/authoring/build.js';
import { webhookConfigurations } from '../src/authoring/webhook-config.js';
import { loadBundle } from '../src/bundles/bundle.js';
import { startBouncer } from './lib/bouncer-process.js';
import { defaultDir, startControlPlane, stopControlPlane } from './lib/control-plane.js';
import { ensureTools, requireTool } from './lib/tools.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
// Only what running needs: the test-only tools (shellcheck, promtool) are the test path's.
const tools = { ...ensureTools('opa'), ...ensureTools('control-plane') };
const dir = defaultDir();
const work = `${dir}-run`;
mkdirSync(work, { recursive: true });

say('building policies/ ...');
const bundleFile = join(work, 'starter.tar.gz');
const built = await buildBundle({ policiesDir: 'policies', output: bundleFile, opa: requireTool(tools, 'OPA') });
say(`  bundle ${bundleFile} revision ${built.revision}: ${built.policies.map((p) => p.id).join(', ')}`);

say('starting etcd and kube-apiserver ...');
await stopControlPlane(dir);
const state = await startControlPlane({ dir });
say('starting bouncer ...');
const bouncer = await startBouncer({ starter: bundleFile }, ['--log-level', 'warn'], { onOutput: (t) => process.stderr.write(t) });

const kc = new KubeConfig();
kc.loadFromFile(state.kubeconfig);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const policies = (await loadBundle('starter', readFileSync(bundleFile))).policies.map((p) => p.meta);
const configs = webhookConfigurations(policies, {
  name: 'bouncer',
  clientConfig: (endpoint) => ({ url: `${bouncer.url}/${endpoint}`, caBundle: Buffer.from(bouncer.caPem).toString('base64') }),
  excludedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease'],
});
await admission.createValidatingWebhookConfiguration({ body: configs.validating as never });
await admission.createMutatingWebhookConfiguration({ body: configs.mutating as never });

const IMAGE = 'registry.k8s.io/pause:3.10';
const example = (name: string, container: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: IMAGE, ...container }] } }, null, 2);
writeFileSync(join(work, 'privileged-pod.json'), example('privileged', { securityContext: { privileged: true } }));
writeFileSync(join(work, 'no-limits-pod.json'), example('no-limits', {}));
writeFileSync(join(work, 'limited-pod.json'), example('limited', { resources: { limits: { cpu: '100m', memory: '64Mi' } } }));
const kubectl = requireTool(tools, 'KUBECTL');

say(`
bouncer is enforcing ${policies.length} policies on a local kube-apiserver (${state.server}).

  export KUBECONFIG=${state.kubeconfig}
  alias kubectl=${kubectl}

  kubectl create -f ${work}/privileged-pod.json    # denied by disallow-privileged
  kubectl create -f ${work}/no-limits-pod.json     # admitted with warnings from require-resource-limits
  kubectl create -f ${work}/limited-pod.json       # admitted and mutated: seccomp profile and requests defaulted
  kubectl get pod limited -o jsonpath='{.spec.securityContext}{"\\n"}{.spec.containers[0].resources}{"\\n"}'
  grep bouncer.dev ${state.auditLog} | tail -n 3  # audit annotations of each decision

bouncer metrics: ${bouncer.healthUrl}/metrics    Ctrl-C stops everything.`);

await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
  process.once('SIGHUP', resolve);
});
say('\nstopping ...');
await bouncer.stop();
await stopControlPlane(dir);
