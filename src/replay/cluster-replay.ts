// `bouncer replay --from-cluster`: the cluster's current objects, evaluated as CREATE by the
// audit (same reviewer as admission, every kind the policies match listed page by page), turned
// into the same verdict diff as recorded reviews. The baseline is "every object admitted" (it
// exists), or the audit of the same objects under --baseline. An object's verdict is read from
// its findings: a fail of a deny policy denies, warn findings are its warnings, error findings
// its policy errors.
import type { AuditFinding, AuditRun } from '../audit/types.js';
import { changesOf, DiffBuilder, type Subject, type Verdict } from './verdict-diff.js';
import { SKIP_REASONS, type ReplayReport, type SkipReason } from './replay-records.js';

const objectKey = (f: AuditFinding): string => `${f.resource.apiVersion}\u0000${f.resource.kind}\u0000${f.resource.namespace}\u0000${f.resource.name}`;

interface ObjectVerdicts {
  readonly subjects: Map<string, Subject>;
  readonly verdicts: Map<string, Verdict>;
}

function verdicts(run: AuditRun): ObjectVerdicts {
  const subjects = new Map<string, Subject>();
  const byObject = new Map<string, AuditFinding[]>();
  for (const f of run.findings) {
    const key = objectKey(f);
    byObject.set(key, [...(byObject.get(key) ?? []), f]);
    subjects.set(key, { id: f.resource.uid, uid: f.resource.uid, kind: `${f.resource.apiVersion}/${f.resource.kind}`, namespace: f.resource.namespace, name: f.resource.name, user: '', operation: 'CREATE' });
  }
  const out = new Map<string, Verdict>();
  for (const [key, findings] of byObject) {
    const denying = findings.filter((f) => f.result === 'fail' && f.enforcement === 'deny');
    out.set(key, {
      allowed: denying.length === 0,
      ...(denying.length > 0 ? { message: denying.map((f) => `[${f.policy}] ${f.message}`).join('; ') } : {}),
      warnings: findings.filter((f) => f.result === 'warn').map((f) => `[${f.policy}] ${f.message}`),
      denying: denying.map((f) => f.policy),
      errors: findings.filter((f) => f.result === 'error').map((f) => f.policy),
      mutating: [],
    });
  }
  return { subjects, verdicts: out };
}

const ADMITTED: Verdict = { allowed: true, warnings: [], denying: [], errors: [], mutating: [] };

export function clusterReplayReport(candidate: AuditRun, baseline: AuditRun | undefined, options: { readonly examples?: number; readonly durationMs: number }): ReplayReport {
  const cand = verdicts(candidate);
  const base = baseline ? verdicts(baseline) : undefined;
  const diff = new DiffBuilder(options.examples ?? 3);
  const keys = new Set([...cand.verdicts.keys(), ...(base?.verdicts.keys() ?? [])]);
  for (const key of keys) {
    const subject = cand.subjects.get(key) ?? base?.subjects.get(key);
    if (!subject) continue;
    diff.add(subject, changesOf(base?.verdicts.get(key) ?? ADMITTED, cand.verdicts.get(key) ?? ADMITTED));
  }
  const skipped = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
  skipped['invalid-review'] = candidate.objectsInvalid ?? 0;
  const notes = [
    ...candidate.kinds.filter((k) => k.error).map((k) => `kind ${k.kind} not listed completely: ${k.error?.code} ${k.error?.message}`),
    ...candidate.notAuditable.map((p) => `policy ${p.policy} not evaluated: ${p.reason}`),
    ...(candidate.truncated || baseline?.truncated ? ['findings were cut at --max-findings: the diff is partial'] : []),
  ];
  return {
    source: 'cluster',
    candidate: candidate.revision,
    baseline: baseline ? baseline.revision : 'every existing object admitted',
    coverage: {
      read: candidate.objectsScanned + (candidate.objectsInvalid ?? 0),
      replayed: candidate.objectsScanned,
      skipped,
      skippedExamples: [],
      notes,
    },
    diff: diff.build(),
    durationMs: options.durationMs,
  };
}
