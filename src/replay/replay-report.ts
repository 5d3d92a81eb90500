// How a replay is shown (text for people, JSON for machines) and what it exits with as a CI
// gate: non-zero when any change listed in --fail-on happened (allowed-to-denied by default).
import { CHANGES, type Change, type Group } from './verdict-diff.js';
import { SKIP_REASONS, type ReplayReport } from './replay-records.js';

/** The gate's changes, from `--fail-on a,b` ('none' for a report that never fails). */
export function parseFailOn(text: string | undefined): readonly Change[] {
  if (text === undefined) return ['allowed-to-denied'];
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 1 && items[0] === 'none') return [];
  const unknown = items.filter((i) => !(CHANGES as readonly string[]).includes(i));
  if (unknown.length > 0 || items.length === 0) throw new Error(`--fail-on takes a comma-separated list of ${CHANGES.join(', ')} (or none); got ${JSON.stringify(text)}`);
  return items as Change[];
}

/** The changes of `report` that fail the gate. */
export function failedChanges(report: ReplayReport, failOn: readonly Change[]): Change[] {
  return failOn.filter((c) => report.diff[c].count > 0);
}

const LABEL: Readonly<Record<Change, string>> = {
  'allowed-to-denied': 'allowed → denied',
  'denied-to-allowed': 'denied → allowed',
  'warnings-added': 'warnings added',
  'warnings-removed': 'warnings removed',
  'patch-changed': 'patches changed',
  errors: 'new policy errors',
};

function groupLines(title: string, groups: readonly Group[], max: number): string[] {
  if (groups.length === 0) return [];
  const lines = [`    by ${title}:`];
  for (const g of groups.slice(0, max)) lines.push(`      ${g.key === '' ? '(none)' : g.key}: ${g.count}`);
  if (groups.length > max) lines.push(`      … ${groups.length - max} more`);
  return lines;
}

export function reportText(report: ReplayReport, failOn: readonly Change[]): string {
  const c = report.coverage;
  const lines = [
    `replay of ${report.source === 'cluster' ? 'the cluster\'s objects (as CREATE)' : 'recorded reviews'}: candidate ${report.candidate}, baseline ${report.baseline}`,
    `  ${c.read} read, ${c.replayed} replayed, ${c.read - c.replayed} skipped (${((report.durationMs / 1000)).toFixed(2)} s)`,
  ];
  for (const reason of SKIP_REASONS) {
    if (c.skipped[reason] === 0) continue;
    lines.push(`    skipped ${reason}: ${c.skipped[reason]}`);
    for (const e of c.skippedExamples.filter((x) => x.reason === reason)) lines.push(`      ${e.where}: ${e.detail}`);
  }
  for (const note of c.notes ?? []) lines.push(`    note: ${note}`);
  for (const change of CHANGES) {
    const r = report.diff[change];
    lines.push(`${LABEL[change]}: ${r.count}${failOn.includes(change) && r.count > 0 ? '  (fails the gate)' : ''}`);
    if (r.count === 0) continue;
    lines.push(...groupLines('policy', r.byPolicy, 10), ...groupLines('namespace', r.byNamespace, 10), ...groupLines('user', r.byUser, 10), ...groupLines('kind', r.byKind, 10));
    const examples = new Map(r.byPolicy.flatMap((g) => g.examples).map((e) => [e.id, e]));
    lines.push('    examples:');
    for (const e of [...examples.values()].slice(0, 5)) {
      lines.push(`      ${e.operation} ${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name} by ${e.user || '?'} (uid ${e.uid}, decision ${e.id}): ${e.detail.split('\n').join('; ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function reportJson(report: ReplayReport, failOn: readonly Change[]): string {
  return `${JSON.stringify({ ...report, gate: { failOn, failed: failedChanges(report, failOn) } }, null, 2)}\n`;
}
