// Replays recorded reviews under a candidate policy set, with admission's reviewer (same
// evaluator, matching, builtins) on this thread: each record is checked (its endpoint, its
// review, --since, whether a candidate policy may read what was masked), evaluated with the
// time the policies saw when it was recorded (nd_builtin_cache time.now_ns; else its
// timestamp), and compared with its baseline: the recorded decision, or the same record
// evaluated under a baseline set. A record that cannot be replayed is counted with its
// reason, never evaluated on partial data.
import { checkReview } from '../admission/decode.js';
import type { AdmissionRequest } from '../admission/types.js';
import type { LoadedBundle } from '../bundles/bundle.js';
import type { PolicySet } from '../bundles/policy-set.js';
import { describeThrown } from '../errors/errors.js';
import type { NamespaceLookup } from '../gatekeeper/types.js';
import { createReviewer, summarize, type Reviewer } from '../review/reviewer.js';
import { bundleRequirements } from '../review/inventory-gate.js';
import { inScope } from '../review/scope.js';
import { covers, pathText, pointerSegments, type InputPath, type ModuleReads } from './input-reads.js';
import type { ReadRecord, Unreadable } from './read-records.js';
import { changesOf, DiffBuilder, verdictOfDecision, verdictOfRecord, type Diff, type Subject, type Verdict } from './verdict-diff.js';

export const SKIP_REASONS = ['corrupt', 'truncated', 'not-a-record', 'outside-since', 'unknown-endpoint', 'invalid-review', 'masked-field-read', 'baseline-not-evaluated'] as const;

/**
 * Failure classes of a recorded outcome that say the policy was not evaluated on the review (shed
 * at capacity, out of time, its replicated data unusable): such a record has no verdict of the
 * policies to compare with, unless a --baseline is evaluated.
 */
const NOT_EVALUATED = new Set(['overload', 'timeout', 'inventory']);
export type SkipReason = (typeof SKIP_REASONS)[number];

/** A policy set to evaluate, with what its Rego reads (input-reads.ts), per bundle name. */
export interface ReplaySet {
  readonly set: PolicySet;
  readonly reads: ReadonlyMap<string, readonly ModuleReads[]>;
}

export interface Coverage {
  readonly read: number;
  readonly replayed: number;
  readonly skipped: Readonly<Record<SkipReason, number>>;
  /** A few skipped records per reason (file:line or decision id, and why). */
  readonly skippedExamples: readonly { readonly reason: SkipReason; readonly where: string; readonly detail: string }[];
  /** What else limits the replay (kinds not listed, policies not evaluated). */
  readonly notes?: readonly string[];
}

export interface ReplayReport {
  readonly source: 'records' | 'cluster';
  readonly candidate: string;
  readonly baseline: string;
  readonly coverage: Coverage;
  readonly diff: Diff;
  readonly durationMs: number;
}

export interface ReplayOptions {
  readonly candidate: ReplaySet;
  /** Absent: the recorded decisions are the baseline. */
  readonly baseline?: ReplaySet;
  /** Records older than this (epoch ms) are skipped. */
  readonly since?: number;
  readonly examples?: number;
  readonly namespaces?: NamespaceLookup;
}

/**
 * The first input read of an in-scope policy of `set` that can see a masked value, as
 * "<pointer> read by <policy or module> (<path>)"; undefined when none can.
 */
export function maskedRead(rs: ReplaySet, endpoint: 'validate' | 'mutate', request: AdmissionRequest, masked: readonly string[]): string | undefined {
  if (masked.length === 0) return undefined;
  const segments = masked.map((m) => ({ m, s: pointerSegments(m) }));
  for (const bundle of rs.set.bundles) {
    const modules = rs.reads.get(bundle.name) ?? [];
    const owners = readers(bundle, endpoint, request);
    for (const mod of modules) {
      const owner = owners(mod.package);
      if (owner === undefined) continue;
      for (const path of mod.reads) {
        const hit = segments.find(({ s }) => covers(path, s));
        if (hit) return `${hit.m} read by ${owner} (${pathText(path as InputPath)})`;
      }
    }
  }
  return undefined;
}

/** Who a module's reads count for: its in-scope native policy, or (any other module: libs, templates) every review. */
function readers(bundle: LoadedBundle, endpoint: 'validate' | 'mutate', request: AdmissionRequest): (pkg: string) => string | undefined {
  const natives = new Map(bundle.policies.map((p) => [p.meta.package, p]));
  return (pkg) => {
    const own = [...natives].find(([p]) => pkg === p || pkg.startsWith(`${p}.`))?.[1];
    if (!own) return `module ${pkg}`;
    return own[endpoint] !== undefined && inScope(own.meta.scope, request) ? `policy ${own.meta.id}` : undefined;
  };
}

const emptySkips = (): Record<SkipReason, number> => Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;

function reviewerFor(rs: ReplaySet, clock: { ns: bigint }, id: { value: string }, namespaces?: NamespaceLookup): Reviewer {
  return createReviewer({ policies: () => rs.set, clockNs: () => clock.ns, newId: () => id.value, reviewBudgetMs: 3_600_000, ...(namespaces ? { namespaces } : {}) });
}

/** Replays `records`; `unreadable` are the lines the reader could not take (counted as skipped). */
export async function replayRecords(records: Iterable<ReadRecord>, unreadable: readonly Unreadable[], options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const skipped = emptySkips();
  const examples: { reason: SkipReason; where: string; detail: string }[] = [];
  const skip = (reason: SkipReason, where: string, detail: string) => {
    skipped[reason]++;
    if (examples.filter((e) => e.reason === reason).length < (options.examples ?? 3)) examples.push({ reason, where, detail });
  };
  for (const u of unreadable) skip(u.reason, `${u.source}:${u.line}`, u.detail);
  const clock = { ns: 0n };
  const id = { value: '' };
  const candidate = reviewerFor(options.candidate, clock, id, options.namespaces);
  const baseline = options.baseline ? reviewerFor(options.baseline, clock, id, options.namespaces) : undefined;
  const diff = new DiffBuilder(options.examples ?? 3);
  let read = unreadable.length;
  let replayed = 0;
  for (const record of records) {
    read++;
    const where = `${record.source}:${record.line} (${record.decisionId})`;
    if (options.since !== undefined && record.timestamp < options.since) {
      skip('outside-since', where, new Date(record.timestamp).toISOString());
      continue;
    }
    if (!record.endpoint) {
      skip('unknown-endpoint', where, `path ${JSON.stringify(record.path)}`);
      continue;
    }
    let review;
    let raw: Uint8Array;
    try {
      raw = new TextEncoder().encode(JSON.stringify(record.input));
      review = checkReview(record.input);
    } catch (err) {
      skip('invalid-review', where, describeThrown(err));
      continue;
    }
    const request = review.request;
    const unevaluated = options.baseline ? undefined : record.result.policies.find((p) => p.error && NOT_EVALUATED.has(p.error.class));
    if (unevaluated) {
      skip('baseline-not-evaluated', where, `policy ${unevaluated.policy} was not evaluated when recorded (${unevaluated.error?.class}); give --baseline to compare`);
      continue;
    }
    const blocked = maskedRead(options.candidate, record.endpoint, request, record.masked) ?? (options.baseline ? maskedRead(options.baseline, record.endpoint, request, record.masked) : undefined);
    if (blocked) {
      skip('masked-field-read', where, blocked);
      continue;
    }
    clock.ns = record.nowNs ?? BigInt(record.timestamp) * 1_000_000n;
    id.value = record.decisionId;
    const base: Verdict = baseline ? verdictOfDecision(await baseline.review(record.endpoint, review, raw)) : verdictOfRecord(record.result);
    const cand = verdictOfDecision(await candidate.review(record.endpoint, review, raw));
    replayed++;
    const s = summarize(request);
    const subject: Subject = { id: record.decisionId, uid: s.uid, kind: s.kind, namespace: s.namespace, name: s.name, user: s.user, operation: s.operation };
    diff.add(subject, changesOf(base, cand));
  }
  const readers = [options.candidate, ...(options.baseline ? [options.baseline] : [])].flatMap((rs) =>
    rs.set.bundles.filter((b) => (bundleRequirements(b.manifest)?.kinds.length ?? 0) > 0).map((b) => b.name),
  );
  return {
    source: 'records',
    candidate: options.candidate.set.revision,
    baseline: options.baseline ? options.baseline.set.revision : 'recorded decisions',
    coverage: {
      read,
      replayed,
      skipped,
      skippedExamples: examples,
      ...(readers.length > 0 ? { notes: [`bundle ${[...new Set(readers)].join(', ')} reads replicated objects (data.inventory): replayed against an empty inventory`] } : {}),
    },
    diff: diff.build(),
    durationMs: performance.now() - started,
  };
}
