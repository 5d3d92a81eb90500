// The benchmark harness runs end to end (`npm run bench:smoke` does the same from the
// command line): bouncer, OPA and the in-process floor all answer, every corpus review
// gets the same decision from the three, and the results file is well formed. It asserts
// nothing about speed — that is what `npm run bench` and docs/performance.md are for.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeCorpus, generateCorpus } from '../../bench/corpus.js';
import { summarize } from '../../bench/profile-summary.js';
import { runBench, type BenchResults } from '../../bench/run.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bouncer-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the corpus generator', () => {
  it('is deterministic for a seed and spans the kinds, operations and sizes it promises', () => {
    const a = generateCorpus({ profile: 'mixed', count: 200, seed: 7 });
    const b = generateCorpus({ profile: 'mixed', count: 200, seed: 7 });
    expect(a.map((i) => i.body.toString())).toEqual(b.map((i) => i.body.toString()));
    const d = describeCorpus(a);
    expect(Object.keys(d.kinds).sort()).toEqual(['ConfigMap', 'CronJob', 'Deployment', 'Pod', 'PrometheusRule']);
    expect(Object.keys(d.operations).sort()).toEqual(['CREATE', 'UPDATE']);
    expect(d.bytes.min).toBeGreaterThanOrEqual(1_500);
    expect(d.bytes.max).toBeLessThanOrEqual(110_000);
    for (const item of a) {
      const review = JSON.parse(item.body.toString()) as { request: { operation: string; oldObject: unknown; object: unknown } };
      expect(review.request.object).toBeTypeOf('object');
      expect(review.request.oldObject === null).toBe(item.operation === 'CREATE');
    }
  });
});

describe('npm run bench -- --quick', () => {
  it('runs bouncer, OPA and the floor end to end and writes well-formed results', async () => {
    if (!existsSync(join(root, 'dist', 'main.js'))) throw new Error('dist/ is missing: run `npm run -s build` first');
    const out = join(dir, 'results');
    const prof = join(dir, 'prof');
    const { file, results } = await runBench(['--quick', '--no-pin', '--no-docs', '--out', out, '--cpu-prof', prof], () => undefined);

    const written = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
    expect(written.schema).toBe(1);
    expect(written.configs.map((c) => c.id)).toEqual(['main']);
    const main = results.configs[0];
    expect(main).toBeDefined();
    if (!main) return;

    // Every review decided the same way by all three, and as the generator intended.
    expect(main.agreement.systems).toEqual(['bouncer', 'opa', 'floor']);
    expect(main.agreement.items).toBe(main.corpus.count);
    expect(main.agreement.disagreements).toEqual([]);
    expect(main.agreement.intentMismatches).toEqual([]);
    expect(main.agreement.allowed).toBeGreaterThan(0);
    expect(main.agreement.denied).toBeGreaterThan(0);

    for (const s of main.systems) {
      expect(s.open).toHaveLength(1);
      const run = s.open[0]?.runs[0];
      expect(run, s.system).toBeDefined();
      expect(run?.errors, `${s.system}: ${run?.errorSamples.join('; ')}`).toBe(0);
      expect(run?.completed).toBeGreaterThan(0);
      expect(Number.isFinite(run?.latencyMs.p50) && Number.isFinite(run?.latencyMs.p99)).toBe(true);
      expect(run?.latencyMs.p99).toBeGreaterThanOrEqual(run?.latencyMs.p50 ?? Infinity);
      const sat = s.saturation.runs[0];
      expect(sat?.errors).toBe(0);
      expect(sat?.throughputRps).toBeGreaterThan(0);
      if (s.system === 'floor') {
        expect(s.peakRssKb).toBeNull();
      } else {
        expect(run?.cpuPerDecisionUs).toBeGreaterThan(0);
        expect(s.peakRssKb).toBeGreaterThan(0);
      }
    }
    expect(written.analysis?.goals.length).toBeGreaterThan(0);
    expect(written.analysis?.agreement.disagreements).toBe(0);

    // bouncer's main thread was profiled, and the profile reads.
    const profiles = readdirSync(prof).filter((f) => f.endsWith('.cpuprofile'));
    expect(profiles).toHaveLength(1);
    const summary = summarize(JSON.parse(readFileSync(join(prof, profiles[0] as string), 'utf8')));
    expect(summary.totalMs).toBeGreaterThan(0);
  }, 180_000);
});
