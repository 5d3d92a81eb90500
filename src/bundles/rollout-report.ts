// The rollout report each replica writes on a bundle pointer (annotation
// rollout.bouncer.dev/<replica>): the candidate it runs (loaded or refused) and its window
// counts. The promotion controller adds the reports of every replica up; `bouncer status`
// shows them. A report names its candidate by sequence and start, so one left behind by an
// earlier candidate (or a replica gone) is never counted for the current one.
import {
  emptyCounts,
  emptyShadow,
  mergeCounts,
  mergeShadow,
  readCounts,
  readShadow,
  type CandidateWindow,
  type RoleCounts,
  type ShadowCounts,
} from './canary-window.js';

/** What a replica runs as a bundle's candidate. */
export interface CandidateState {
  readonly mode: 'shadow' | 'canary';
  readonly sequence: number;
  readonly startedAt: number;
  readonly state: 'loaded' | 'refused';
  readonly code?: string;
  readonly reason?: string;
}

export interface RolloutReport {
  readonly at: string;
  readonly candidate: CandidateState;
  readonly active?: RoleCounts;
  readonly canary?: RoleCounts;
  readonly shadow?: ShadowCounts;
}

export function buildReport(state: CandidateState, window: CandidateWindow | undefined, at: Date): RolloutReport {
  const same = window && window.sequence === state.sequence && window.startedAt === state.startedAt;
  return {
    at: at.toISOString(),
    candidate: state,
    ...(same && state.mode === 'canary' ? { active: window.active, canary: window.canary } : {}),
    ...(same && state.mode === 'shadow' ? { shadow: window.shadow } : {}),
  };
}

export interface Aggregate {
  readonly replicas: readonly string[];
  readonly refusedBy: readonly string[];
  readonly active: RoleCounts;
  readonly canary: RoleCounts;
  readonly shadow: ShadowCounts;
}

/** The reports (as read from the annotations) for this candidate, added up; anything unreadable or about another candidate is left out. */
export function aggregateReports(reports: Readonly<Record<string, unknown>>, candidate: { readonly sequence: number; readonly startedAt: number }): Aggregate {
  let active = emptyCounts();
  let canary = emptyCounts();
  let shadow = emptyShadow();
  const replicas: string[] = [];
  const refusedBy: string[] = [];
  for (const [replica, value] of Object.entries(reports)) {
    if (typeof value !== 'object' || value === null) continue;
    const r = value as Record<string, unknown>;
    const c = r.candidate as Record<string, unknown> | undefined;
    if (!c || c.sequence !== candidate.sequence || c.startedAt !== candidate.startedAt) continue;
    replicas.push(replica);
    if (c.state === 'refused') refusedBy.push(replica);
    const a = readCounts(r.active);
    const k = readCounts(r.canary);
    const s = readShadow(r.shadow);
    if (a) active = mergeCounts(active, a);
    if (k) canary = mergeCounts(canary, k);
    if (s) shadow = mergeShadow(shadow, s);
  }
  return { replicas: replicas.sort(), refusedBy: refusedBy.sort(), active, canary, shadow };
}
