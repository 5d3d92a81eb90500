// The verdict diff of a replay: for each review, its baseline verdict (as recorded, or
// re-evaluated under --baseline) against the candidate's, sorted into changes, each change
// grouped by policy, namespace, user and kind with a few examples. Pure.
import type { JsonPatchOperation } from '../admission/types.js';
import type { Decision } from '../review/decision.js';
import type { RecordedResult } from '../review/review-record.js';

export const CHANGES = ['allowed-to-denied', 'denied-to-allowed', 'warnings-added', 'warnings-removed', 'patch-changed', 'errors'] as const;
export type Change = (typeof CHANGES)[number];

/** What a replay compares of one decision. */
export interface Verdict {
  readonly allowed: boolean;
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly patch?: readonly JsonPatchOperation[];
  /** Policies that denied (a deny, or a fail-closed error). */
  readonly denying: readonly string[];
  /** Policies that failed to evaluate. */
  readonly errors: readonly string[];
  /** Policies whose patch was applied. */
  readonly mutating: readonly string[];
}

/** Who and what a review was about, for grouping and examples. */
export interface Subject {
  /** The decision id (a recorded review's), or the object's uid (--from-cluster). */
  readonly id: string;
  /** The AdmissionRequest's uid. */
  readonly uid: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly user: string;
  readonly operation: string;
}

export function verdictOfDecision(d: Decision): Verdict {
  return {
    allowed: d.allowed,
    ...(d.message === undefined ? {} : { message: d.message }),
    warnings: d.warnings,
    ...(d.patch && d.patch.length > 0 ? { patch: d.patch } : {}),
    denying: d.outcomes.filter((o) => o.action === 'deny' || (o.action === 'error' && o.failure === 'fail-closed')).map((o) => o.policy),
    errors: d.outcomes.filter((o) => o.action === 'error').map((o) => o.policy),
    mutating: d.outcomes.filter((o) => o.action === 'mutate').map((o) => o.policy),
  };
}

export function verdictOfRecord(r: RecordedResult): Verdict {
  return {
    allowed: r.allowed,
    ...(r.message === undefined ? {} : { message: r.message }),
    warnings: r.warnings,
    ...(r.patch && r.patch.length > 0 ? { patch: r.patch } : {}),
    denying: r.policies.filter((p) => p.action === 'deny' || (p.action === 'error' && p.failure !== 'fail-open')).map((p) => p.policy),
    errors: r.policies.filter((p) => p.action === 'error').map((p) => p.policy),
    mutating: r.policies.filter((p) => p.action === 'mutate').map((p) => p.policy),
  };
}

/** The policy a warning names (`[policy] message`), or '' when it names none. */
const warningPolicy = (w: string): string => /^\[([^\]]+)\]/.exec(w)?.[1] ?? '';

/** The changes from `base` to `cand`, each with the policies it is attributed to. */
export function changesOf(base: Verdict, cand: Verdict): { change: Change; policies: string[]; detail: string }[] {
  const out: { change: Change; policies: string[]; detail: string }[] = [];
  if (base.allowed && !cand.allowed) out.push({ change: 'allowed-to-denied', policies: [...cand.denying], detail: cand.message ?? '' });
  if (!base.allowed && cand.allowed) out.push({ change: 'denied-to-allowed', policies: [...base.denying], detail: base.message ?? '' });
  const added = cand.warnings.filter((w) => !base.warnings.includes(w));
  const removed = base.warnings.filter((w) => !cand.warnings.includes(w));
  if (added.length > 0) out.push({ change: 'warnings-added', policies: [...new Set(added.map(warningPolicy))], detail: added.join('; ') });
  if (removed.length > 0) out.push({ change: 'warnings-removed', policies: [...new Set(removed.map(warningPolicy))], detail: removed.join('; ') });
  // Patches are compared only where both admitted (a denial carries none).
  if (base.allowed && cand.allowed && JSON.stringify(base.patch ?? []) !== JSON.stringify(cand.patch ?? [])) {
    out.push({ change: 'patch-changed', policies: [...new Set([...base.mutating, ...cand.mutating])], detail: JSON.stringify(cand.patch ?? []) });
  }
  const newErrors = cand.errors.filter((p) => !base.errors.includes(p));
  if (newErrors.length > 0) out.push({ change: 'errors', policies: newErrors, detail: cand.message ?? '' });
  return out;
}

export interface Example extends Subject {
  readonly detail: string;
}

export interface Group {
  readonly key: string;
  readonly count: number;
  readonly examples: readonly Example[];
}

export interface ChangeReport {
  readonly count: number;
  readonly byPolicy: readonly Group[];
  readonly byNamespace: readonly Group[];
  readonly byUser: readonly Group[];
  readonly byKind: readonly Group[];
}

export type Diff = Readonly<Record<Change, ChangeReport>>;

/** Accumulates changes, keeping `examples` per group. */
export class DiffBuilder {
  private readonly groups = new Map<Change, { count: number; by: Map<string, Map<string, { count: number; examples: Example[] }>> }>();
  constructor(private readonly examples = 3) {
    for (const c of CHANGES) this.groups.set(c, { count: 0, by: new Map(['policy', 'namespace', 'user', 'kind'].map((k) => [k, new Map()])) });
  }

  add(subject: Subject, changes: readonly { change: Change; policies: readonly string[]; detail: string }[]): void {
    for (const { change, policies, detail } of changes) {
      const entry = this.groups.get(change);
      if (!entry) continue;
      entry.count++;
      const example: Example = { ...subject, detail };
      const keys: [string, readonly string[]][] = [
        ['policy', policies.length > 0 ? policies : ['']],
        ['namespace', [subject.namespace]],
        ['user', [subject.user]],
        ['kind', [subject.kind]],
      ];
      for (const [dimension, values] of keys) {
        const by = entry.by.get(dimension) as Map<string, { count: number; examples: Example[] }>;
        for (const value of new Set(values)) {
          const g = by.get(value) ?? { count: 0, examples: [] };
          g.count++;
          if (g.examples.length < this.examples) g.examples.push(example);
          by.set(value, g);
        }
      }
    }
  }

  build(): Diff {
    const sorted = (m: Map<string, { count: number; examples: Example[] }>): Group[] =>
      [...m].map(([key, g]) => ({ key, count: g.count, examples: g.examples })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return Object.fromEntries(
      CHANGES.map((c) => {
        const e = this.groups.get(c) as { count: number; by: Map<string, Map<string, { count: number; examples: Example[] }>> };
        const by = (d: string) => sorted(e.by.get(d) as Map<string, { count: number; examples: Example[] }>);
        return [c, { count: e.count, byPolicy: by('policy'), byNamespace: by('namespace'), byUser: by('user'), byKind: by('kind') }];
      }),
    ) as unknown as Diff;
  }
}
