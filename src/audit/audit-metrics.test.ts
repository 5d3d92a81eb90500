// A completed run as metrics: a violations series per audited policy (0 included) from the
// run's totals, kinds not listed, counts, requests, the run's result.
import { describe, expect, it } from 'vitest';
import { recordAuditRun, type AuditMetrics } from './audit-metrics.js';
import type { AuditRun } from './types.js';

describe('audit metrics', () => {
  it('records a completed run', () => {
    const calls: unknown[][] = [];
    const metrics = new Proxy({} as AuditMetrics, { get: (_t, name) => (...args: unknown[]) => void calls.push([name, ...args]) });
    const run: AuditRun = {
      id: 'r',
      revision: 'b@1',
      startedAt: new Date(1_000_000),
      finishedAt: new Date(1_004_500),
      objectsScanned: 10,
      objectsEvaluated: 4,
      objectsInvalid: 1,
      apiRequests: 3,
      kinds: [{ kind: 'v1/ConfigMap', objects: 10 }, { kind: 'v1/Secret', objects: 0, error: { code: 'AUDIT_KIND_UNLISTABLE', message: 'forbidden' } }],
      notAuditable: [],
      findings: [],
      passes: [],
      summary: [
        { policy: 'a', bundle: 'b', enforcement: 'deny', pass: 5, fail: 3, warn: 1, error: 1 },
        { policy: 'c', bundle: 'b', enforcement: 'warn', pass: 10, fail: 0, warn: 0, error: 0 },
      ],
      truncated: true,
    };
    recordAuditRun(metrics, run);
    expect(calls).toEqual([
      ['violations', [{ policy: 'a', enforcement: 'deny', count: 4 }, { policy: 'c', enforcement: 'warn', count: 0 }]],
      ['completed', 1004.5, 4.5],
      ['objects', 10, 4, 1],
      ['kindsUnlistable', [{ kind: 'v1/Secret', code: 'AUDIT_KIND_UNLISTABLE' }]],
      ['apiRequests', 3],
      ['truncated', true],
      ['run', 'completed'],
    ]);
  });
});
