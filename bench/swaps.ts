// RSS across many bundle swaps (is anything leaked when a policy set is replaced?): loads
// the starter bundle and swaps a fresh copy in N times through the same path `bouncer serve`
// uses (load and self-check on the main thread, prepare on every worker, publish, release
// the old one), evaluating a review after each swap. Prints RSS every 10% of the way.
//   npx tsx bench/swaps.ts [--swaps 1000] [--workers 2] [--policies policies]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { checkReview } from '../src/admission/decode.js';
import { buildBundle } from '../src/authoring/build.js';
import { loadBundle } from '../src/bundles/bundle.js';
import { createPolicyRegistry } from '../src/bundles/registry.js';
import { createWorkerPool } from '../src/engine/worker-pool.js';
import { createReviewer } from '../src/review/reviewer.js';
import { podRequest } from '../test/support/bundle-files.js';

const { values } = parseArgs({ options: { swaps: { type: 'string' }, workers: { type: 'string' }, policies: { type: 'string' } } });
const swaps = Number(values.swaps ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'bouncer-swaps-'));
const file = join(dir, 'bundle.tar.gz');
await buildBundle({ policiesDir: values.policies ?? 'policies', output: file, opa: requireTool(ensureTools('opa'), 'OPA') });
const bytes = readFileSync(file);
const backend = createWorkerPool({ size: Number(values.workers ?? 2), maxQueue: 1024, policyTimeoutMs: 1000, log: console });
const registry = createPolicyRegistry();
registry.onChange((set) => backend.retain(new Set(set.bundles.map((b) => b.key))));
const reviewer = createReviewer({ policies: registry.current, backend });
const pod = { metadata: { name: 'p', namespace: 'team' }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', securityContext: { privileged: true } }] } };
const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: podRequest(pod, { userInfo: { username: 'bench' } }) };
const raw = new TextEncoder().encode(JSON.stringify(review));
const mb = () => (process.memoryUsage().rss / 1024 / 1024).toFixed(1);
const samples: string[] = [];
for (let i = 1; i <= swaps; i++) {
  // Identical bytes share a digest; a distinct key per swap makes every swap a new bundle to
  // the workers (prepared, then the previous one released), as a new revision would be.
  const bundle = await loadBundle('starter', bytes);
  await backend.prepare({ ...bundle, key: `${bundle.key}-${i}` });
  registry.activate({ ...bundle, key: `${bundle.key}-${i}` });
  const decision = await reviewer.review('validate', checkReview(review), raw);
  if (decision.allowed) throw new Error('the privileged pod was admitted');
  if (i === 1 || i % Math.max(1, Math.floor(swaps / 10)) === 0) {
    (globalThis as { gc?: () => void }).gc?.();
    samples.push(`${i}: ${mb()} MB`);
    process.stdout.write(`swap ${i}: rss ${mb()} MB\n`);
  }
}
await backend.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`RSS after ${swaps} swaps (main process; worker heaps included): ${samples.join(', ')}\n`);
