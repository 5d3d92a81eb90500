// The recording of `bouncer serve`: a sampled share of decisions, recorded after the call
// returns; a record that cannot be built or written is counted, never thrown at the caller.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdmissionRequest } from '../admission/types.js';
import type { Decision } from '../review/decision.js';
import { createLogger } from '../telemetry/logger.js';
import { recordSegments } from '../telemetry/record-spool.js';
import { createReviewRecording } from './review-recording.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(sample: number, randoms: number[] = []) {
  const root = mkdtempSync(join(tmpdir(), 'bouncer-recording-'));
  dirs.push(root);
  const counts = { recorded: 0, dropped: {} as Record<string, number> };
  const recording = createReviewRecording({
    dir: join(root, 'records'),
    maxBytes: 1_000_000,
    maxAgeMs: 3_600_000,
    sample,
    maskPointers: [],
    policies: () => undefined,
    replica: 'r1',
    metrics: { recorded: (n) => (counts.recorded += n), dropped: (r, n) => (counts.dropped[r] = (counts.dropped[r] ?? 0) + n), spoolBytes: () => undefined },
    logger: createLogger({ level: 'silent' }),
    random: () => randoms.shift() ?? 0,
    flushMs: 1,
  });
  return { root, dir: join(root, 'records'), recording, counts };
}

const request = (uid: string): AdmissionRequest =>
  ({ uid, kind: { group: '', version: 'v1', kind: 'ConfigMap' }, resource: { group: '', version: 'v1', resource: 'configmaps' }, operation: 'CREATE', namespace: 'a', name: 'cm', userInfo: { username: 'u' }, object: { metadata: { name: 'cm' } } }) as unknown as AdmissionRequest;

const decision = (id: string): Decision => ({
  id,
  endpoint: 'validate',
  request: { uid: id, kind: 'v1/ConfigMap', namespace: 'a', name: 'cm', operation: 'CREATE', subResource: '', user: 'u', dryRun: false },
  allowed: true,
  warnings: [],
  revision: undefined,
  outcomes: [],
  auditAnnotations: {},
  durationMs: 0,
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('the review recording', () => {
  it('records the sampled share only, after the call returns', async () => {
    const h = setup(0.5, [0.1, 0.7, 0.49, 0.5]);
    for (const id of ['a', 'b', 'c', 'd']) h.recording.record(decision(id), request(id));
    expect(recordSegments(h.dir)).toEqual([]);
    await settle();
    h.recording.close();
    const ids = readFileSync(recordSegments(h.dir)[0] as string, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { decision_id: string }).decision_id);
    expect(ids).toEqual(['a', 'c']);
    expect(h.counts.recorded).toBe(2);
  });

  it('counts a record it cannot build (build_failed) and one it cannot write (write_failed), and never throws', async () => {
    const h = setup(1);
    const cyclic: Record<string, unknown> = { metadata: { name: 'x' } };
    cyclic.self = { back: cyclic, fn: () => undefined };
    expect(() => h.recording.record(decision('x'), { ...request('x'), object: cyclic } as AdmissionRequest)).not.toThrow();
    await settle();
    expect(h.counts.dropped.build_failed).toBe(1);
    rmSync(h.dir, { recursive: true });
    writeFileSync(h.dir, 'not a directory');
    expect(() => h.recording.record(decision('y'), request('y'))).not.toThrow();
    await settle();
    expect(h.counts.dropped.write_failed).toBe(1);
    h.recording.close();
  });
});
