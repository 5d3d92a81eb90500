// Record and replay on the real API server: bouncer serves the baseline policies with
// recording on; a bounded mixed load of ConfigMaps and Secrets goes through the API server
// (some admitted, some denied); `bouncer replay` of a stricter candidate over the recording
// must name exactly the requests it would newly deny (computed from what was sent), report the
// Secrets whose masked data a candidate policy reads as not replayable, and `--from-cluster`
// must name exactly the objects that exist and the candidate would deny as CREATE.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { buildBundle } from '../../src/authoring/build.js';
import { main } from '../../src/cli/main.js';
import type { ReplayReport } from '../../src/replay/replay-records.js';
import type { Example, Group } from '../../src/replay/verdict-diff.js';
import { metricValue } from '../support/metrics.js';
import { apiFailure, createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor } from '../support/kube.js';
import { registerUrlWebhook } from '../support/url-webhook.js';

/** The JSON report of `bouncer replay --format json`. */
type JsonReport = ReplayReport & { gate: { failOn: string[]; failed: string[] } };

type Sent = { name: string; kind: 'ConfigMap' | 'Secret'; admitted: boolean; newlyDenied: boolean; masked: boolean };

/** The load: every shape the candidate treats differently, a few of each (bounded: 36 requests). */
function plan(): { name: string; kind: 'ConfigMap' | 'Secret'; labels: Record<string, string>; annotations?: Record<string, string>; data?: Record<string, string>; expect: Omit<Sent, 'name' | 'kind'> }[] {
  const out: ReturnType<typeof plan> = [];
  for (let i = 0; i < 6; i++) {
    out.push({ name: `owned-${i}`, kind: 'ConfigMap', labels: { owner: 'a' }, expect: { admitted: true, newlyDenied: false, masked: false } });
    out.push({ name: `orphan-${i}`, kind: 'ConfigMap', labels: {}, expect: { admitted: true, newlyDenied: true, masked: false } });
    out.push({ name: `refused-${i}`, kind: 'ConfigMap', labels: { deny: 'true', owner: 'a' }, expect: { admitted: false, newlyDenied: false, masked: false } });
    out.push({ name: `expired-${i}`, kind: 'ConfigMap', labels: { owner: 'a' }, annotations: { 'expires-at': '2020-01-01T00:00:00Z' }, expect: { admitted: true, newlyDenied: true, masked: false } });
    out.push({ name: `weak-${i}`, kind: 'Secret', labels: { owner: 'a' }, data: { password: Buffer.from('hunter2').toString('base64') }, expect: { admitted: true, newlyDenied: false, masked: true } });
    out.push({ name: `plain-${i}`, kind: 'Secret', labels: {}, expect: { admitted: true, newlyDenied: false, masked: false } });
  }
  return out;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { env: { OPA_BIN: inject('opa') }, stdout: (t) => (out += t), stderr: (t) => (err += t), stdin: () => '' });
  return { code, out, err };
}

/** Names (namespace/name) in the report's allowed-to-denied examples of one namespace. */
function newlyDenied(report: JsonReport, namespace: string): string[] {
  const group = report.diff['allowed-to-denied'].byNamespace.find((g: Group) => g.key === namespace);
  return (group?.examples ?? []).map((e: Example) => e.name).sort();
}

describe.skipIf(inject('externalCluster'))('record and replay through the API server', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const ns = uniqueName('replay');
  const hook = uniqueName('replay');
  const work = mkdtempSync(join(tmpdir(), 'bouncer-replay-e2e-'));
  const records = join(work, 'records');
  const baseline = join(work, 'baseline.tar.gz');
  const candidate = join(work, 'candidate.tar.gz');
  let bouncer: BouncerProcess;
  const sent: Sent[] = [];

  beforeAll(async () => {
    await buildBundle({ policiesDir: 'test/fixtures/replay/baseline', output: baseline, opa: inject('opa'), revision: 'baseline-1' });
    await buildBundle({ policiesDir: 'test/fixtures/replay/candidate', output: candidate, opa: inject('opa'), revision: 'candidate-1' });
    await createNamespace(kube, ns);
    bouncer = await startBouncer({ baseline }, ['--record-dir', records, '--record-max-mb', '16']);
    await registerUrlWebhook({ kube, name: hook, bundleFile: baseline, namespace: ns }, bouncer);
    // The load, four requests at a time; each request's admission is checked as it returns.
    const items = plan();
    for (let i = 0; i < items.length; i += 4) {
      await Promise.all(
        items.slice(i, i + 4).map(async (item) => {
          const metadata = { name: item.name, labels: item.labels, ...(item.annotations ? { annotations: item.annotations } : {}) };
          let admitted = true;
          try {
            if (item.kind === 'ConfigMap') await kube.core.createNamespacedConfigMap({ namespace: ns, body: { metadata, data: { x: '1' } } });
            else await kube.core.createNamespacedSecret({ namespace: ns, body: { metadata, ...(item.data ? { data: item.data } : {}) } });
          } catch (err) {
            expect(apiFailure(err).message).toContain('carries the deny label');
            admitted = false;
          }
          expect(admitted).toBe(item.expect.admitted);
          sent.push({ name: item.name, kind: item.kind, ...item.expect });
        }),
      );
    }
    // Every review of the load is recorded (sample 1) once it is flushed.
    await waitFor(async () => (metricValue(await bouncer.metrics(), 'bouncer_review_records_total', {})) >= items.length, 10_000, 'the load recorded');
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await bouncer?.stop();
    await kube.core.deleteNamespace({ name: ns }).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('replays the recording: exactly the requests the candidate newly denies, and the masked ones not replayed', async () => {
    const { code, out, err } = await cli(['replay', '--candidate', candidate, '--from', records, '--format', 'json', '--examples', '1000']);
    expect(err).toBe('');
    expect(code).toBe(1);
    const report = JSON.parse(out) as JsonReport;
    const expected = sent.filter((s) => s.newlyDenied).map((s) => s.name).sort();
    expect(newlyDenied(report, ns)).toEqual(expected);
    expect(report.diff['allowed-to-denied'].count).toBe(expected.length);
    expect(report.diff['allowed-to-denied'].byPolicy.map((g: Group) => [g.key, g.count])).toEqual([
      ['not-expired', 6],
      ['require-owner', 6],
    ]);
    expect(report.diff['denied-to-allowed'].count).toBe(0);
    // The weak Secrets' data was masked when recorded, and weak-password reads it: never evaluated.
    expect(report.coverage.skipped['masked-field-read']).toBe(sent.filter((s) => s.masked).length);
    expect(report.coverage.skipped.corrupt + report.coverage.skipped.truncated).toBe(0);
    // Every request of the load (and the registration's probes) was read; all but the masked ones replayed.
    expect(report.coverage.read).toBeGreaterThanOrEqual(sent.length);
    expect(report.coverage.replayed).toBe(report.coverage.read - sent.filter((s) => s.masked).length);
    // The recording holds no Secret value.
    const text = readFileSync(join(records, (await import('node:fs')).readdirSync(records).find((f) => f.endsWith('.jsonl')) as string), 'utf8');
    expect(text).not.toContain(Buffer.from('hunter2').toString('base64'));
  });

  it('replays the recording under the policies that decided it: every recorded decision is reproduced', async () => {
    const { code, out } = await cli(['replay', '--candidate', baseline, '--from', records, '--format', 'json']);
    expect(code).toBe(0);
    const report = JSON.parse(out) as JsonReport;
    expect(Object.values(report.diff).map((c) => c.count)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(report.coverage.replayed).toBe(report.coverage.read);
  });

  it('replays the cluster: exactly the existing objects the candidate would deny if created now', async () => {
    const { code, out } = await cli(['replay', '--candidate', candidate, '--from-cluster', '--kubeconfig', state.kubeconfig, '--format', 'json', '--examples', '1000']);
    expect(code).toBe(1);
    const report = JSON.parse(out) as JsonReport;
    // Existing objects of the namespace: what was admitted (the weak Secrets' data is real here), plus
    // any ConfigMap the cluster puts in every namespace (kube-root-ca.crt, without an owner label).
    const others = (await kube.core.listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata?.name ?? '').filter((n) => !sent.some((s) => s.name === n));
    const expected = [...sent.filter((s) => s.admitted && (s.newlyDenied || s.masked)).map((s) => s.name), ...others].sort();
    expect(newlyDenied(report, ns)).toEqual(expected);
    expect(report.source).toBe('cluster');
  });
});
