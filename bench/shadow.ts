// The latency cost of shadow evaluation on the answer path: one bouncer replica in the cluster
// mode (a real kube-apiserver, bundles from ConfigMaps), an open-loop load of mixed reviews at a
// fixed rate, alternating runs with and without a shadow candidate staged. The shadow is the
// same starter policies rebuilt under another revision, so it costs a full second evaluation of
// every review (no disagreements, nothing logged) on the same workers.
//   npx tsx bench/shadow.ts [--rate 500] [--seconds 10] [--reps 3]
// Reported: client-side p50/p99 (from each request's intended send time) and bouncer's own
// server-side p99 (bouncer_request_duration_seconds), per run and as medians.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { startBouncer } from '../hack/lib/bouncer-process.js';
import { startControlPlane, stopControlPlane } from '../hack/lib/control-plane.js';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { buildBundle } from '../src/authoring/build.js';
import { createBundleStore } from '../src/cluster/bundle-store.js';
import { generateCorpus } from './corpus.js';
import { openLoop } from './load.js';
import { loadAverage } from './proc.js';
import { parseBuckets, serverLatency } from './server-latency.js';

const { values } = parseArgs({ options: { rate: { type: 'string' }, seconds: { type: 'string' }, reps: { type: 'string' } } });
const RATE = Number(values.rate ?? 500);
const SECONDS = Number(values.seconds ?? 10);
const REPS = Number(values.reps ?? 3);

const dir = mkdtempSync(join(tmpdir(), 'bouncer-bench-shadow-'));
const opa = requireTool(ensureTools('opa'), 'OPA');
const active = join(dir, 'active.tar.gz');
const candidate = join(dir, 'candidate.tar.gz');
await buildBundle({ policiesDir: 'policies', output: active, opa, revision: 'active' });
await buildBundle({ policiesDir: 'policies', output: candidate, opa, revision: 'candidate' });
const state = await startControlPlane({ dir: join(dir, 'cp'), log: () => undefined });
const kc = new KubeConfig();
kc.loadFromFile(state.kubeconfig);
const store = createBundleStore(kc, 'default');
await store.push('bench', readFileSync(active), 'active');
const bouncer = await startBouncer({}, ['--watch-namespace', 'default', '--kubeconfig', state.kubeconfig, '--replica', 'bench', '--log-level', 'warn', '--audit', 'off', '--rollout-interval', '1s'], {
  waitFor: 'ready',
});
const agent = new Agent({ keepAlive: true, maxSockets: 64, ca: bouncer.caPem });
const url = new URL(`${bouncer.url}/validate`);
const send = (body: Buffer) =>
  new Promise<boolean>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.byteLength } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(true) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
const bodies = generateCorpus({ profile: 'mixed', count: 2000 }).map((i) => i.body);
const metric = async (name: string) => {
  const line = (await bouncer.metrics()).split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

async function run(withShadow: boolean) {
  const staged = Boolean((await store.status())[0]?.pointer.shadow);
  if (withShadow && !staged) {
    await store.push('bench', readFileSync(candidate), 'candidate', { candidate: { mode: 'shadow' } });
    for (let i = 0; i < 100 && !(await bouncer.metrics()).includes('bouncer_rollout_candidate{bundle="bench",mode="shadow"} 1'); i++) await sleep(100);
  } else if (!withShadow && staged) {
    await store.rollback('bench');
    for (let i = 0; i < 100 && (await bouncer.metrics()).includes('bouncer_rollout_candidate{bundle="bench"'); i++) await sleep(100);
  }
  await openLoop(send, bodies, { rate: RATE, durationMs: 2000, maxOutstanding: 256 });
  const compared0 = await metric('bouncer_shadow_evaluations_total{result="compared"}');
  const skipped0 = await metric('bouncer_shadow_evaluations_total{result="skipped"}');
  const before = parseBuckets(await bouncer.metrics(), 'bouncer_request_duration_seconds', 'validate');
  const load0 = loadAverage();
  const r = await openLoop(send, bodies, { rate: RATE, durationMs: SECONDS * 1000, maxOutstanding: 256 });
  const server = serverLatency(before, parseBuckets(await bouncer.metrics(), 'bouncer_request_duration_seconds', 'validate'));
  const compared = (await metric('bouncer_shadow_evaluations_total{result="compared"}')) - compared0;
  const skipped = (await metric('bouncer_shadow_evaluations_total{result="skipped"}')) - skipped0;
  return { withShadow, sustained: r.sustained, achievedRps: r.achievedRps, p50: r.latencyMs.p50, p99: r.latencyMs.p99, serverP99: server?.p99Ms ?? NaN, compared, skipped, load: load0 };
}

const runs = [];
try {
  for (let rep = 0; rep < REPS; rep++) {
    for (const withShadow of rep % 2 === 0 ? [false, true] : [true, false]) {
      const r = await run(withShadow);
      runs.push(r);
      process.stdout.write(
        `${withShadow ? 'shadow   ' : 'no shadow'} rep ${rep + 1}: ${r.achievedRps.toFixed(0)}/s${r.sustained ? '' : ' (not sustained)'}, client p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms, server p99 ${r.serverP99.toFixed(2)} ms, shadow compared ${r.compared} skipped ${r.skipped}, load ${r.load}\n`,
      );
    }
  }
} finally {
  agent.destroy();
  await bouncer.stop();
  await stopControlPlane(join(dir, 'cp'));
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
for (const withShadow of [false, true]) {
  const rs = runs.filter((r) => r.withShadow === withShadow);
  process.stdout.write(
    `${withShadow ? 'with shadow   ' : 'without shadow'}: median client p50 ${median(rs.map((r) => r.p50)).toFixed(2)} ms, p99 ${median(rs.map((r) => r.p99)).toFixed(2)} ms, server p99 ${median(rs.map((r) => r.serverP99)).toFixed(2)} ms over ${rs.length} runs of ${SECONDS} s at ${RATE}/s\n`,
  );
}
