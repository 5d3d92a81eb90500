// bouncer audit's exit status and summary, from AuditRun values: 0 clean, 1 a deny policy
// violated, 2 incomplete (a kind not listed, an object not reviewable, a policy error) — 2 wins.
import { describe, expect, it } from 'vitest';
import { auditExit, summary } from '../../src/cli/audit-command.js';
import type { AuditFinding, AuditRun } from '../../src/audit/types.js';

const at = new Date('2026-01-01T00:00:00Z');
const resource = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'team-a', name: 'cm', uid: 'u' };
const finding = (result: AuditFinding['result'], enforcement = 'deny', policy = 'p'): AuditFinding => ({ policy, bundle: 'b', enforcement, result, message: `${result} message\nsecond line`, resource });
function run(extra: Partial<AuditRun> = {}): AuditRun {
  return { id: 'run', revision: 'b@1', startedAt: at, finishedAt: new Date(at.getTime() + 1500), objectsScanned: 3, objectsEvaluated: 3, objectsInvalid: 0, apiRequests: 2, kinds: [{ kind: 'v1/ConfigMap', objects: 3 }], notAuditable: [], findings: [], passes: [], truncated: false, ...extra };
}

describe('bouncer audit', () => {
  it.each([
    ['clean', run(), 0],
    ['warn and dryrun violations only', run({ findings: [finding('warn', 'warn'), finding('fail', 'dryrun')] }), 0],
    ['a deny violation', run({ findings: [finding('fail')] }), 1],
    ['a deny violation cut from the findings but in the summary', run({ summary: [{ policy: 'p', bundle: 'b', enforcement: 'deny', pass: 0, fail: 1, warn: 0, error: 0 }], truncated: true }), 1],
    ['a policy error', run({ findings: [finding('error')] }), 2],
    ['a kind not listed, with a deny violation', run({ findings: [finding('fail')], kinds: [{ kind: 'v1/Secret', objects: 0, error: { code: 'AUDIT_KIND_UNLISTABLE', message: 'forbidden' } }] }), 2],
    ['an object that could not be reviewed', run({ objectsInvalid: 1 }), 2],
  ])('exit status: %s', (_name, r, code) => {
    expect(auditExit(r)).toBe(code);
  });

  it('summarizes per policy with examples, kinds not listed and policies skipped', () => {
    const text = summary(
      run({
        findings: [finding('fail'), finding('fail'), finding('warn', 'warn', 'q')],
        summary: [
          { policy: 'p', bundle: 'b', enforcement: 'deny', pass: 1, fail: 2, warn: 0, error: 0 },
          { policy: 'q', bundle: 'b', enforcement: 'warn', pass: 2, fail: 0, warn: 1, error: 0 },
        ],
        kinds: [{ kind: 'v1/Secret', objects: 0, error: { code: 'AUDIT_KIND_UNLISTABLE', message: 'forbidden (HTTP 403): no' } }],
        notAuditable: [{ policy: 'r', reason: 'reads userInfo' }],
      }),
      1,
      'https://127.0.0.1:6443',
    );
    expect(text).toBe(
      [
        'audit run of https://127.0.0.1:6443 against b@1',
        '  1 kinds, 3 objects (3 evaluated, 0 could not be reviewed), 2 list requests, 1.5 s',
        'kinds not listed completely:',
        '  v1/Secret: AUDIT_KIND_UNLISTABLE forbidden (HTTP 403): no (0 objects seen)',
        'policies not auditable (skipped):',
        '  r: reads userInfo',
        'policy  enforcement  fail   warn   error  pass',
        'p       deny         2      0      0      1',
        '    fail team-a/ConfigMap/cm: fail message; second line',
        'q       warn         0      1      0      2',
        '    warn team-a/ConfigMap/cm: warn message; second line',
        '',
      ].join('\n'),
    );
  });
});
