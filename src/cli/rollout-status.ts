// The rollout lines of `bouncer status`: the candidate in progress and, added up over the
// replicas' reports, its running counts and rates (canary: reviews, deny and error rates and
// p99 of the canary and of the active revision; shadow: compared, disagreement rate, newly
// denied, skipped, failed, timed out), then the last steps of the pointer's history.
import { p99Ms, type RoleCounts } from '../bundles/canary-window.js';
import type { BundleStatus } from '../cluster/bundle-store.js';
import { candidateOf } from '../cluster/rollout-objects.js';
import { aggregateReports } from '../bundles/rollout-report.js';

const pct = (n: number, of: number) => (of === 0 ? '-' : `${((100 * n) / of).toFixed(2)}%`);
const role = (c: RoleCounts) => `${c.reviews} reviews, deny ${pct(c.denied, c.reviews)}, errors ${pct(c.errored, c.reviews)}, p99 ${p99Ms(c) ?? '-'} ms`;

export function rolloutLines(status: BundleStatus, now = Date.now()): string[] {
  const running = candidateOf(status.pointer);
  const lines: string[] = [];
  if (status.pointer.rolloutInvalid) lines.push(`  rollout fields ignored: ${status.pointer.rolloutInvalid}`);
  if (running) {
    const c = running.candidate;
    const agg = aggregateReports(status.rollout ?? {}, c);
    const age = Math.round((now - c.startedAt) / 1000);
    if (running.mode === 'canary') {
      const { slice, policy } = running.candidate;
      const parts = [slice.namespaces ? `namespaces ${slice.namespaces}` : '', slice.percent !== undefined ? `${slice.percent}%` : ''].filter(Boolean).join(' and ');
      lines.push(`  canary: revision ${c.sequence} (${c.revision}) on ${parts}, ${age} s of a ${policy.windowMs / 1000} s window, at least ${policy.minReviews} reviews`);
      lines.push(`    canary: ${role(agg.canary)}`);
      lines.push(`    active: ${role(agg.active)}`);
    } else {
      const s = agg.shadow;
      lines.push(`  shadow: revision ${c.sequence} (${c.revision}) for ${age} s`);
      lines.push(`    compared ${s.compared}, disagreed ${s.disagreed} (${pct(s.disagreed, s.compared)}), newly denied ${s.newlyDenied} (${pct(s.newlyDenied, s.compared)}), skipped ${s.skipped}, failed ${s.failed}, timed out ${s.timeout}`);
    }
    lines.push(`    reported by ${agg.replicas.length > 0 ? agg.replicas.join(', ') : 'no replica yet'}${agg.refusedBy.length > 0 ? `; REFUSED by ${agg.refusedBy.join(', ')}` : ''}`);
  }
  for (const s of (status.pointer.history ?? []).slice(-3)) {
    lines.push(`  step ${new Date(s.at).toISOString()} ${s.action} revision ${s.sequence} by ${s.by}${s.reason ? `: ${s.reason}` : ''}`);
  }
  return lines;
}
