// What a shadow adds to the answer path itself, apart from the work it competes with: the same
// reviews through the same reviewer (in process, a worker pool of one) with no candidate, and
// with a shadow candidate whose evaluation is scheduled but never run (so only the choice of
// the set, the slot reservation and the scheduling remain on the path), then with the shadow
// running (its evaluations share the worker). Sequential reviews; per-review time in µs.
//   npx tsx bench/shadow-answer-path.ts [--reviews 3000]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { decodeReview } from '../src/admission/decode.js';
import { buildBundle } from '../src/authoring/build.js';
import { loadBundle } from '../src/bundles/bundle.js';
import { createPolicyRegistry } from '../src/bundles/registry.js';
import { createWorkerPool } from '../src/engine/worker-pool.js';
import { createReviewer } from '../src/review/reviewer.js';
import { createShadowRunner } from '../src/review/shadow-runner.js';
import { generateCorpus } from './corpus.js';
import { percentiles } from './load.js';

const { values } = parseArgs({ options: { reviews: { type: 'string' } } });
const N = Number(values.reviews ?? 3000);
const dir = mkdtempSync(join(tmpdir(), 'bouncer-shadow-path-'));
const opa = requireTool(ensureTools('opa'), 'OPA');
await buildBundle({ policiesDir: 'policies', output: join(dir, 'a.tar.gz'), opa, revision: 'active' });
await buildBundle({ policiesDir: 'policies', output: join(dir, 'c.tar.gz'), opa, revision: 'candidate' });
const [active, candidate] = await Promise.all([loadBundle('starter', readFileSync(join(dir, 'a.tar.gz'))), loadBundle('starter', readFileSync(join(dir, 'c.tar.gz')))]);
const backend = createWorkerPool({ size: 1, maxQueue: 1024, policyTimeoutMs: 1000, log: console });
await Promise.all([backend.prepare(active), backend.prepare(candidate)]);
const bodies = generateCorpus({ profile: 'mixed', count: 400 }).map((i) => ({ raw: i.body, review: decodeReview(i.body) }));

async function measure(label: string, mode: 'none' | 'scheduled-only' | 'running') {
  const registry = createPolicyRegistry([active]);
  if (mode !== 'none') registry.stage({ bundle: candidate, mode: 'shadow', sequence: 2, startedAt: 0 });
  const shadow = createShadowRunner({ backend, maxConcurrent: 2, timeoutMs: 1000, ...(mode === 'scheduled-only' ? { schedule: () => undefined } : {}) });
  const reviewer = createReviewer({ policies: registry.current, rollout: registry.snapshot, backend, shadow });
  for (let i = 0; i < 300; i++) await reviewer.review('validate', bodies[i % bodies.length]!.review, bodies[i % bodies.length]!.raw);
  const us: number[] = [];
  for (let i = 0; i < N; i++) {
    const b = bodies[i % bodies.length]!;
    const t = performance.now();
    await reviewer.review('validate', b.review, b.raw);
    us.push((performance.now() - t) * 1000);
    if (mode === 'running') await new Promise((r) => setImmediate(r));
  }
  const p = percentiles(us);
  process.stdout.write(`${label}: p50 ${p.p50.toFixed(0)} µs, p99 ${p.p99.toFixed(0)} µs, mean ${p.mean.toFixed(0)} µs over ${N} reviews\n`);
}
for (let rep = 0; rep < 2; rep++) {
  await measure('no candidate            ', 'none');
  await measure('shadow, scheduled only  ', 'scheduled-only');
  await measure('shadow, running         ', 'running');
}
await backend.close();
rmSync(dir, { recursive: true, force: true });
