// Recording and replay on real OPA-built bundles: the record's OPA decision-log shape and its
// masking, the verdict diff of a stricter candidate (grouped, with the CI gate's exit codes), a
// record whose masked field a candidate policy reads (not replayable, never evaluated), the
// recorded time replayed exactly, and spools that are corrupt or truncated (read as far as valid).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkReview } from '../../src/admission/decode.js';
import { buildBundle } from '../../src/authoring/build.js';
import { loadBundle, type LoadedBundle } from '../../src/bundles/bundle.js';
import { inProcessBackend, type EvalBackend } from '../../src/engine/backend.js';
import { createWorkerPool } from '../../src/engine/worker-pool.js';
import { createPolicySet, type PolicySet } from '../../src/bundles/policy-set.js';
import { main } from '../../src/cli/main.js';
import type { ReplayReport } from '../../src/replay/replay-records.js';
import type { ChangeReport, Example, Group } from '../../src/replay/verdict-diff.js';
import { bundleInputReads } from '../../src/replay/replay-set.js';
import { covers, moduleInputReads, parseModules, pointerSegments, type InputPath } from '../../src/replay/input-reads.js';
import { createReviewer } from '../../src/review/reviewer.js';
import { reviewRecordLine, toReviewRecord, type ReviewRecord } from '../../src/review/review-record.js';
import { configMapRequest } from '../support/bundle-files.js';

/** The JSON report of `bouncer replay --format json`. */
type JsonReport = ReplayReport & { gate: { failOn: string[]; failed: string[] } };

const dir = mkdtempSync(join(tmpdir(), 'bouncer-replay-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files: Record<string, string> = {};
const sets: Record<string, PolicySet> = {};

beforeAll(async () => {
  for (const name of ['baseline', 'candidate', 'clock']) {
    files[name] = join(dir, `${name}.tar.gz`);
    await buildBundle({ policiesDir: `test/fixtures/replay/${name}`, output: files[name] as string, opa: inject('opa'), revision: `${name}-1` });
    sets[name] = createPolicySet([await loadBundle(name, readFileSync(files[name] as string))]);
  }
}, 120_000);

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { env: { OPA_BIN: inject('opa') }, stdout: (t) => (out += t), stderr: (t) => (err += t), stdin: () => '' });
  return { code, out, err };
}

/** A review decided by `set` at `nowNs` and recorded as `bouncer serve --record-dir` records it. */
async function recordLine(set: PolicySet, request: Record<string, unknown>, nowNs: bigint, at = new Date()): Promise<string> {
  const body = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
  const review = checkReview(body);
  const reviewer = createReviewer({ policies: () => set, clockNs: () => nowNs });
  const decision = await reviewer.review('validate', review, new TextEncoder().encode(JSON.stringify(body)));
  return reviewRecordLine(toReviewRecord(decision, review, { set, maskPointers: [], labels: { id: 'test' }, now: at }));
}

const configMap = (uid: string, name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}, user = 'alice', namespace = 'team-a') =>
  configMapRequest(labels, {
    uid,
    name,
    namespace,
    userInfo: { username: user },
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels, ...extra }, data: { x: '1' } },
  });

const secret = (uid: string, name: string, data: Record<string, string>) => ({
  uid,
  kind: { group: '', version: 'v1', kind: 'Secret' },
  resource: { group: '', version: 'v1', resource: 'secrets' },
  operation: 'CREATE',
  namespace: 'team-b',
  name,
  userInfo: { username: 'bob' },
  object: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'team-b', labels: { owner: 'b' } }, data },
  oldObject: null,
});

const NOW = BigInt(Date.now()) * 1_000_000n;

describe('a recorded review', () => {
  it("keeps OPA's decision-log field names, masks Secret data and lists what it masked", async () => {
    const line = await recordLine(sets.baseline as PolicySet, secret('s1', 'creds', { password: Buffer.from('hunter2').toString('base64') }), NOW);
    const event = JSON.parse(line) as ReviewRecord & Record<string, unknown>;
    expect(Object.keys(event).sort()).toEqual(['bundles', 'decision_id', 'input', 'labels', 'masked', 'path', 'requested_by', 'result', 'timestamp']);
    expect(event.path).toBe('bouncer/validate');
    expect((event.input.request.object as { data: Record<string, string> }).data.password).toBe('**REDACTED**');
    expect(line).not.toContain(Buffer.from('hunter2').toString('base64'));
    expect(event.masked).toEqual(['/input/request/object/data/password']);
    expect(event.bundles).toEqual({ baseline: { revision: 'baseline-1' } });
    expect(event.labels).toMatchObject({ app: 'bouncer', id: 'test', record_version: '1', endpoint: 'validate', policy_set: 'baseline@baseline-1', policy_set_digest: (sets.baseline as PolicySet).digest });
    expect(event.requested_by).toBe('bob');
    expect(event.result).toMatchObject({ allowed: true, warnings: [] });
    // The baseline reads no time: no nd_builtin_cache.
    expect(event.nd_builtin_cache).toBeUndefined();
  });

  it('masks the configured pointers too (--record-mask), relative to the object', async () => {
    const body = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: configMap('m1', 'cm', { owner: 'a', team: 'x' }) };
    const review = checkReview(body);
    const decision = await createReviewer({ policies: () => sets.baseline }).review('validate', review, new TextEncoder().encode(JSON.stringify(body)));
    const event = toReviewRecord(decision, review, { set: sets.baseline, maskPointers: ['/metadata/labels/team'] });
    expect(event.masked).toEqual(['/input/request/object/metadata/labels/team']);
    expect((event.input.request.object as { metadata: { labels: Record<string, string> } }).metadata.labels).toEqual({ owner: 'a', team: '**REDACTED**' });
  });

  it('carries the time policies saw when the set reads it, as an exact integer beyond 2^53', async () => {
    const ns = 1577836799999999998n;
    const line = await recordLine(sets.clock as PolicySet, configMap('c1', 'cm', { owner: 'a' }), ns);
    expect(line).toContain('"nd_builtin_cache":{"time.now_ns":{"[]":1577836799999999998}}');
  });
});

describe('bouncer replay of recorded reviews', () => {
  let spool: string;
  beforeAll(async () => {
    spool = join(dir, 'spool');
    const b = sets.baseline as PolicySet;
    const lines = [
      await recordLine(b, configMap('u1', 'owned', { owner: 'a' }), NOW),
      await recordLine(b, configMap('u2', 'orphan-1', {}), NOW),
      await recordLine(b, configMap('u3', 'orphan-2', {}, {}, 'carol', 'team-c'), NOW),
      await recordLine(b, configMap('u4', 'denied', { deny: 'true', owner: 'a' }), NOW),
      await recordLine(b, configMap('u5', 'expired', { owner: 'a' }, { annotations: { 'expires-at': '2020-01-01T00:00:00Z' } }), NOW),
      await recordLine(b, secret('u6', 'weak', { password: Buffer.from('hunter2').toString('base64') }), NOW),
      await recordLine(b, secret('u7', 'empty', {}), NOW),
    ];
    const { mkdirSync } = await import('node:fs');
    mkdirSync(spool);
    writeFileSync(join(spool, '0000000000000001.jsonl'), `${lines.join('\n')}\n`);
  });

  it('reports exactly the newly denied reviews, grouped by policy, namespace, user and kind, and fails the gate', async () => {
    const { code, out } = await run(['replay', '--candidate', files.candidate as string, '--from', spool, '--format', 'json']);
    expect(code).toBe(1);
    const report = JSON.parse(out) as JsonReport;
    expect(report.coverage).toMatchObject({ read: 7, replayed: 6, skipped: { 'masked-field-read': 1 } });
    expect(report.coverage.skippedExamples[0]?.detail).toMatch(/^\/input\/request\/object\/data\/password read by policy weak-password/);
    const denied = report.diff['allowed-to-denied'];
    expect(denied.count).toBe(3);
    const ids = new Set(denied.byPolicy.flatMap((g: Group) => g.examples.map((e: Example) => e.uid)));
    expect([...ids].sort()).toEqual(['u2', 'u3', 'u5']);
    expect(denied.byPolicy.map((g: Group) => [g.key, g.count])).toEqual([
      ['require-owner', 2],
      ['not-expired', 1],
    ]);
    expect(denied.byNamespace.map((g: Group) => [g.key, g.count])).toEqual([
      ['team-a', 2],
      ['team-c', 1],
    ]);
    expect(denied.byUser.map((g: Group) => [g.key, g.count])).toEqual([
      ['alice', 2],
      ['carol', 1],
    ]);
    expect(denied.byKind.map((g: Group) => [g.key, g.count])).toEqual([['v1/ConfigMap', 3]]);
    expect(report.diff['denied-to-allowed'].count).toBe(0);
    expect(report.gate).toEqual({ failOn: ['allowed-to-denied'], failed: ['allowed-to-denied'] });
  });

  it.each([
    [['--fail-on', 'none'], 0],
    [['--fail-on', 'denied-to-allowed,errors'], 0],
    [['--fail-on', 'allowed-to-denied'], 1],
  ])('exit status with %j is %i', async (flags, expected) => {
    const { code } = await run(['replay', '--candidate', files.candidate as string, '--from', spool, ...flags]);
    expect(code).toBe(expected);
  });

  it('takes a policies directory as the candidate, built as bouncer build would', async () => {
    const { code, out } = await run(['replay', '--candidate', 'test/fixtures/replay/candidate', '--from', spool, '--format', 'json']);
    expect(code).toBe(1);
    const report = JSON.parse(out) as JsonReport;
    expect(report.candidate).toMatch(/^local@/);
    expect(report.diff['allowed-to-denied'].count).toBe(3);
  });

  it('compares with a re-evaluated --baseline: the baseline against itself changes nothing', async () => {
    const { code, out } = await run(['replay', '--candidate', files.baseline as string, '--baseline', files.baseline as string, '--from', spool, '--format', 'json']);
    const report = JSON.parse(out) as JsonReport;
    expect(code).toBe(0);
    expect(report.baseline).toBe('baseline@baseline-1');
    expect(Object.values(report.diff).map((c: ChangeReport) => c.count)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(report.coverage.replayed).toBe(7);
  });

  it('prints a text report with the counts and examples', async () => {
    const { out } = await run(['replay', '--candidate', files.candidate as string, '--from', spool]);
    expect(out).toContain('7 read, 6 replayed, 1 skipped');
    expect(out).toContain('allowed → denied: 3  (fails the gate)');
    expect(out).toMatch(/CREATE v1\/ConfigMap team-a\/orphan-1 by alice \(uid u2, decision [-0-9a-f]+\): bouncer denied the request: \[require-owner\] ConfigMap "orphan-1" has no owner label/);
  });
});

describe('the recorded time', () => {
  it('is the time a replayed policy sees, to the nanosecond', async () => {
    const expiresAt = '2019-12-31T23:59:59.999999998Z'; // 1577836799999999998 ns
    const request = configMap('t1', 'edge', { owner: 'a' }, { annotations: { 'expires-at': expiresAt } });
    const at = 1577836799999999998n; // not yet expired (expiry < now is false), and 2^53 would round it past the expiry
    const line = await recordLine(sets.clock as PolicySet, request, at);
    expect(JSON.parse(line).result.allowed).toBe(true);
    const file = join(dir, 'clock.jsonl');
    writeFileSync(file, `${line}\n`);
    const same = JSON.parse((await run(['replay', '--candidate', files.clock as string, '--from', file, '--format', 'json'])).out) as JsonReport;
    expect(same.coverage.replayed).toBe(1);
    expect(same.diff['allowed-to-denied'].count).toBe(0);
    // The control: one nanosecond later the same policy denies it.
    const later = await recordLine(sets.clock as PolicySet, request, at + 1n);
    expect(JSON.parse(later).result.allowed).toBe(false);
  });
});

describe('a pinned time on every backend', () => {
  it('is what time.now_ns returns on the worker pool as in-process, for every policy of the review', async () => {
    const bundle = (sets.clock as PolicySet).bundles[0] as LoadedBundle;
    const entry = bundle.policies.find((p) => p.meta.id === 'not-expired')?.validate as number;
    const input = new TextEncoder().encode(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: configMap('p1', 'edge', { owner: 'a' }, { annotations: { 'expires-at': '2019-12-31T23:59:59.999999998Z' } }) }));
    const pool = createWorkerPool({ size: 1, maxQueue: 4, policyTimeoutMs: 5000, log: { warn: () => undefined, error: () => undefined } });
    try {
      await pool.prepare(bundle);
      const denies = async (backend: EvalBackend, ns: bigint) => {
        const [[outcome]] = (await backend.evaluate(input, [{ bundle, entrypoints: [entry] }], Date.now() + 5000, ns)) as [[{ ok: true; value: { deny: string[] } }]];
        return outcome.value.deny.length > 0;
      };
      for (const backend of [pool, inProcessBackend()]) {
        expect(await denies(backend, 1577836799999999998n)).toBe(false);
        expect(await denies(backend, 1577836799999999999n)).toBe(true);
      }
    } finally {
      await pool.close();
    }
  });
});

describe('a corrupt or truncated spool', () => {
  it('is read as far as it is valid and every bad line is reported', async () => {
    const good = await recordLine(sets.baseline as PolicySet, configMap('g1', 'owned', { owner: 'a' }), NOW);
    const old = await recordLine(sets.baseline as PolicySet, configMap('g2', 'owned', { owner: 'a' }), NOW, new Date(Date.now() - 3 * 86_400_000));
    const other = good.replace('"path":"bouncer/validate"', '"path":"bouncer/other"').replace('"g1"', '"g3"');
    // Shed at capacity when recorded: no policy verdict to compare with.
    const shed = good.replace('"action":"pass"', '"action":"error","error":{"code":"POLICY_NOT_EVALUATED","class":"overload"}');
    const file = join(dir, 'broken.jsonl');
    writeFileSync(file, [good, '{not json', '{"decision_id":"x"}', old, other, shed, good.slice(0, 40)].join('\n'));
    const { code, out } = await run(['replay', '--candidate', files.baseline as string, '--from', file, '--since', '24h', '--format', 'json']);
    expect(code).toBe(0);
    const report = JSON.parse(out) as JsonReport;
    expect(report.coverage.read).toBe(7);
    expect(report.coverage.replayed).toBe(1);
    expect(report.coverage.skipped).toMatchObject({ corrupt: 1, truncated: 1, 'not-a-record': 1, 'outside-since': 1, 'unknown-endpoint': 1, 'baseline-not-evaluated': 1 });
    expect(report.coverage.skippedExamples.find((e) => e.reason === 'corrupt')?.where).toBe(`${file}:2`);
  });

  it("reads OPA's upload format (one JSON array of events) too", async () => {
    const a = await recordLine(sets.baseline as PolicySet, configMap('j1', 'orphan', {}), NOW);
    const file = join(dir, 'upload.json');
    writeFileSync(file, `[${a},\n${a.replace('"j1"', '"j2"')}]`);
    const report = JSON.parse((await run(['replay', '--candidate', files.candidate as string, '--from', file, '--format', 'json'])).out) as JsonReport;
    expect(report.coverage.replayed).toBe(2);
    expect(report.diff['allowed-to-denied'].count).toBe(2);
  });

  it('refuses a source that does not exist, with exit status 2', async () => {
    const { code, err } = await run(['replay', '--candidate', files.baseline as string, '--from', join(dir, 'missing')]);
    expect(code).toBe(2);
    expect(err).toMatch(/CONFIG_INVALID: --from: ENOENT/);
  });

  it('refuses a candidate that does not load, with exit status 2', async () => {
    const bad = join(dir, 'bad.tar.gz');
    writeFileSync(bad, 'not a bundle');
    const { code, err } = await run(['replay', '--candidate', bad, '--from', join(dir, 'broken.jsonl')]);
    expect(code).toBe(2);
    expect(err).toMatch(/BUNDLE_/);
  });
});

describe('what a bundle reads', () => {
  /** The reads of one module (OPA's parse), beside a lib like policies/lib/kubernetes.rego. */
  async function readsOf(rego: string): Promise<InputPath[]> {
    const d = mkdtempSync(join(dir, 'rego-'));
    writeFileSync(join(d, 'lib.rego'), LIB);
    writeFileSync(join(d, 'policy.rego'), rego);
    const mods = moduleInputReads(await parseModules(inject('opa'), d, ['lib.rego', 'policy.rego']));
    return mods.flatMap((m) => m.reads);
  }
  const LIB = `package lib.k
request := input.request
pod_spec := request.object.spec if request.kind.kind == "Pod"
pod_spec := request.object.spec.template.spec if request.kind.kind == "Deployment"
containers := [{"container": c, "index": i} | some i, c in pod_spec.containers]
describe(ct) := sprintf("container %v", [object.get(ct.container, "name", "")])
`;
  const ENV = pointerSegments('/input/request/object/spec/containers/0/env/0/value');
  const TEMPLATE_ENV = pointerSegments('/input/request/object/spec/template/spec/containers/1/env/0/value');
  const SECRET = pointerSegments('/input/request/object/data/password');
  const reads = (paths: InputPath[], masked: string[]) => paths.some((p) => covers(p, masked));

  it.each([
    ['fields of containers through a rule that holds them, and a function that reads a field', 'deny contains k.describe(ct) if { some ct in k.containers; endswith(ct.container.image, ":latest") }', false],
    ['a container passed whole to a builtin', 'deny contains sprintf("%v", [ct.container]) if { some ct in k.containers }', true],
    ['env read through the rule', 'deny contains "env" if { some ct in k.containers; some e in ct.container.env; e.value == "x" }', true],
    ['only the keys a literal object names', 'fields := {"hostNetwork": 1, "hostPID": 2}\ndeny contains f if { some f, _ in fields; k.pod_spec[f] == true }', false],
    ['object.get with a constant key', 'deny contains "x" if { object.get(input.request, "subResource", "") == "status" }', false],
    ['the object walked', 'deny contains "x" if { walk(input.request.object, [p, v]); v == "secret" }', true],
    ['a dynamic key', 'deny contains "x" if { some k2; input.request.object.spec[k2] == 1 }', true],
  ])('%s: reads masked env values: %s', async (_what, body, expected) => {
    const paths = await readsOf(`package policies.p\nimport data.lib.k\n${body}\n`);
    expect(reads(paths, ENV) || reads(paths, TEMPLATE_ENV)).toBe(expected);
    expect(reads(paths, SECRET)).toBe(body.includes('walk'));
  });

  it('leaves the starter validating policies able to replay Pods with masked env values', async () => {
    const mods = await bundleInputReads(readFileSync(inject('bundles').starter as string), inject('opa'));
    const blocking = mods.filter((m) => m.reads.some((r) => covers(r, ENV))).map((m) => m.package);
    // Only the two mutating policies, whose patches copy containers and the pod spec whole.
    expect(blocking).toEqual(['policies.default_resource_requests', 'policies.default_seccomp_profile']);
  });
});
