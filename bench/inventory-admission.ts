// Admission latency of a referential policy against the number of replicated objects: the
// bundle of test/fixtures/policy-sets/inventory-unique-ingress (a native policy and a
// Gatekeeper constraint, both "ingress hosts are unique", both scanning data.inventory's
// Ingresses) reviewing an Ingress CREATE through bouncer's reviewer on this thread, with 0,
// 1,000 and 10,000 Ingresses replicated, and a ConfigMap review (no policy matches it) beside
// it to show the replicated data costs nothing to reviews that do not read it. Bounded: a
// fixed number of reviews per size.
//   npx tsx bench/inventory-admission.ts [--sizes 0,1000,10000] [--reviews 300]
import { parseArgs } from 'node:util';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { decodeReview } from '../src/admission/decode.js';
import { buildBundleBytes } from '../src/authoring/build-bytes.js';
import { loadBundle } from '../src/bundles/bundle.js';
import { createPolicySet } from '../src/bundles/policy-set.js';
import { inProcessBackend } from '../src/engine/backend.js';
import { createInventoryFeed } from '../src/inventory/data-feed.js';
import { createInventoryStore } from '../src/inventory/store.js';
import type { GroupVersionKind } from '../src/inventory/types.js';
import { createReviewer } from '../src/review/reviewer.js';

const { values } = parseArgs({ options: { sizes: { type: 'string' }, reviews: { type: 'string' } } });
const sizes = (values.sizes ?? '0,1000,10000').split(',').map(Number);
const reviews = Number(values.reviews ?? 300);
const INGRESS: GroupVersionKind = { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' };
const encoder = new TextEncoder();

const ingress = (ns: string, name: string, host: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: ns, uid: `uid-${ns}-${name}`, resourceVersion: '1', labels: { app: name } },
  spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] } }] },
});
const review = (kind: GroupVersionKind, resource: string, object: object) =>
  encoder.encode(
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'bench',
        kind,
        resource: { group: kind.group, version: kind.version, resource },
        operation: 'CREATE',
        namespace: 'bench',
        name: 'new',
        userInfo: { username: 'bench' },
        object,
      },
    }),
  );

const opa = requireTool(ensureTools('opa'), 'OPA');
const bytes = await buildBundleBytes({ policiesDir: 'test/fixtures/policy-sets/inventory-unique-ingress', opa });
const ingressReview = review(INGRESS, 'ingresses', ingress('bench', 'new', 'fresh.example.com'));
const configMapReview = review({ group: '', version: 'v1', kind: 'ConfigMap' }, 'configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'new', namespace: 'bench' } });

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

for (const size of sizes) {
  const bundle = await loadBundle('bench', bytes, { limits: { maxMemoryPages: 16384 } });
  const store = createInventoryStore({ maxBytes: Number.MAX_SAFE_INTEGER, maxStalenessMs: Number.MAX_SAFE_INTEGER });
  const objects = Array.from({ length: size }, (_, i) => {
    const ns = `ns-${i % 100}`;
    return { namespace: ns, name: `ing-${i}`, json: encoder.encode(JSON.stringify(ingress(ns, `ing-${i}`, `host-${i}.example.com`))) };
  });
  store.replaceAll(INGRESS, objects);
  store.markSynced(INGRESS);
  const backend = inProcessBackend();
  const feed = createInventoryFeed({ view: store, backend });
  const t0 = performance.now();
  await backend.prepare(bundle, feed.attach(bundle.key, bundle.manifest.inventory));
  const seedMs = performance.now() - t0;
  const set = createPolicySet([bundle]);
  const reviewer = createReviewer({ policies: () => set, backend, reviewBudgetMs: 60_000, inventory: { health: (k) => store.health(k), generation: () => 0 } });
  for (const [label, raw] of [
    ['Ingress (both policies scan the Ingresses)', ingressReview],
    ['ConfigMap (no policy matches)', configMapReview],
  ] as const) {
    const parsed = decodeReview(raw);
    const first = await reviewer.review('validate', parsed, raw);
    if (!first.allowed) throw new Error(`the ${label} review was denied: ${first.message}`);
    const times: number[] = [];
    for (let i = 0; i < reviews; i++) {
      const s = performance.now();
      await reviewer.review('validate', parsed, raw);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${String(size).padStart(6)} Ingresses replicated | ${label.padEnd(45)} | p50 ${pct(times, 0.5).toFixed(3)} ms | p99 ${pct(times, 0.99).toFixed(3)} ms | seed ${seedMs.toFixed(0)} ms`,
    );
  }
}
