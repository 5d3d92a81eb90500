// The rollout fields of a bundle pointer (bundle-objects.ts): a candidate revision beside
// the active one, either as a shadow (evaluated on live traffic, never enforced) or as a
// canary (enforced for a deterministic slice of requests, promoted or rolled back on
// evidence), and the bounded history of every step. Each is one JSON-valued key of the
// pointer's data, so a pointer without them (written by an older bouncer) reads as before
// and an older bouncer reading a pointer with them ignores them and serves the active
// revision alone.
//
//   data.shadow   {"sequence","revision","sha256","startedAt"}
//   data.canary   {"sequence","revision","sha256","startedAt","slice":{"namespaces","percent"},"policy":{...}}
//   data.history  [{"at","action","sequence","revision","by","reason"}, ...] (newest last, at most HISTORY_LIMIT)
import { parseJson } from '../json/parse-json.js';

/** When to promote a canary, and what breaches roll it back (see bundles/promotion-decision.ts). */
export interface PromotionPolicy {
  /** How long the canary runs before it may be promoted (ms). */
  readonly windowMs: number;
  /** Canary reviews (across replicas) needed before any verdict. */
  readonly minReviews: number;
  /** Largest allowed rise of the canary's deny rate over the active revision's (absolute, 0..1). */
  readonly maxDenyRateIncrease: number;
  /** Largest allowed rise of the canary's error rate (policy evaluation errors) over the active revision's (absolute, 0..1). */
  readonly maxErrorRateIncrease: number;
  /** Largest allowed ratio of the canary's p99 evaluation time to the active revision's. */
  readonly maxP99Ratio: number;
}

export const DEFAULT_PROMOTION_POLICY: PromotionPolicy = Object.freeze({
  windowMs: 600_000,
  minReviews: 100,
  maxDenyRateIncrease: 0.01,
  maxErrorRateIncrease: 0.01,
  maxP99Ratio: 2,
});

/** Which requests a canary decides: both parts when both are given (an intersection). */
export interface CanarySlice {
  /** A label selector on the request's Namespace (`env=canary,tier in (web)`). */
  readonly namespaces?: string;
  /** 0 < percent <= 100, by a stable hash of namespace/name. */
  readonly percent?: number;
}

export interface CandidateRef {
  readonly sequence: number;
  readonly revision: string;
  readonly digest: string;
  /** When the candidate was pushed (ms since the epoch); a canary's window runs from here. */
  readonly startedAt: number;
}

export type ShadowCandidate = CandidateRef;

export interface CanaryCandidate extends CandidateRef {
  readonly slice: CanarySlice;
  readonly policy: PromotionPolicy;
}

export type StepAction = 'push' | 'shadow' | 'canary' | 'promote' | 'rollback';

export interface HistoryStep {
  readonly at: number;
  readonly action: StepAction;
  readonly sequence: number;
  readonly revision: string;
  /** Who took the step: `cli`, or `bouncer/<replica>` for the promotion controller. */
  readonly by: string;
  readonly reason?: string;
}

export const HISTORY_LIMIT = 50;

export interface RolloutFields {
  readonly shadow?: ShadowCandidate;
  readonly canary?: CanaryCandidate;
  readonly history?: readonly HistoryStep[];
  /** Why a rollout field present on the pointer could not be read (it is then ignored: the active revision serves alone). */
  readonly rolloutInvalid?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function candidateRef(v: unknown, what: string): CandidateRef {
  if (!isObject(v)) throw new Error(`${what} is not an object`);
  const { sequence, revision, sha256, startedAt } = v;
  if (!Number.isInteger(sequence) || (sequence as number) < 1) throw new Error(`${what}.sequence must be a positive integer`);
  if (typeof revision !== 'string' || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`${what} needs a revision and a sha256`);
  if (!finite(startedAt)) throw new Error(`${what}.startedAt must be a number`);
  return { sequence: sequence as number, revision, digest: sha256, startedAt };
}

/** Checks a slice; the namespace selector's syntax is checked where it is compiled (bundles/canary-slice.ts). */
export function checkSlice(v: unknown): CanarySlice {
  if (!isObject(v)) throw new Error('canary.slice is not an object');
  const { namespaces, percent } = v;
  if (namespaces !== undefined && (typeof namespaces !== 'string' || namespaces.trim() === '')) throw new Error('canary.slice.namespaces must be a non-empty label selector');
  if (percent !== undefined && (!finite(percent) || percent <= 0 || percent > 100)) throw new Error('canary.slice.percent must be a number in (0, 100]');
  if (namespaces === undefined && percent === undefined) throw new Error('canary.slice needs namespaces, percent or both');
  return { ...(namespaces === undefined ? {} : { namespaces: namespaces as string }), ...(percent === undefined ? {} : { percent: percent as number }) };
}

export function checkPromotionPolicy(v: unknown): PromotionPolicy {
  if (!isObject(v)) throw new Error('canary.policy is not an object');
  const p = { ...DEFAULT_PROMOTION_POLICY, ...v } as Record<string, unknown>;
  const rate = (k: string) => {
    if (!finite(p[k]) || (p[k] as number) < 0 || (p[k] as number) > 1) throw new Error(`canary.policy.${k} must be a number in [0, 1]`);
    return p[k] as number;
  };
  if (!finite(p.windowMs) || (p.windowMs as number) < 0) throw new Error('canary.policy.windowMs must be a non-negative number');
  if (!Number.isInteger(p.minReviews) || (p.minReviews as number) < 1) throw new Error('canary.policy.minReviews must be a positive integer');
  if (!finite(p.maxP99Ratio) || (p.maxP99Ratio as number) < 1) throw new Error('canary.policy.maxP99Ratio must be a number >= 1');
  return {
    windowMs: p.windowMs as number,
    minReviews: p.minReviews as number,
    maxDenyRateIncrease: rate('maxDenyRateIncrease'),
    maxErrorRateIncrease: rate('maxErrorRateIncrease'),
    maxP99Ratio: p.maxP99Ratio as number,
  };
}

function historySteps(v: unknown): HistoryStep[] {
  if (!Array.isArray(v)) throw new Error('history is not an array');
  return v.filter(isObject).flatMap((s) =>
    typeof s.action === 'string' && Number.isInteger(s.sequence) && finite(s.at)
      ? [{ at: s.at, action: s.action as StepAction, sequence: s.sequence as number, revision: String(s.revision ?? ''), by: String(s.by ?? ''), ...(typeof s.reason === 'string' ? { reason: s.reason } : {}) }]
      : [],
  );
}

/**
 * The rollout fields of a pointer's data. Never throws: a field that does not parse is
 * left out and named in `rolloutInvalid`, so a damaged candidate can never stop the active
 * revision from being read and served.
 */
export function readRolloutFields(data: Readonly<Record<string, string>>): RolloutFields {
  const problems: string[] = [];
  const parse = <T>(key: string, read: (v: unknown) => T): T | undefined => {
    const text = data[key];
    if (text === undefined || text === '') return undefined;
    try {
      return read(parseJson(text));
    } catch (err) {
      problems.push(`${key}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const shadow = parse('shadow', (v) => candidateRef(v, 'shadow'));
  const canary = parse('canary', (v) => {
    const ref = candidateRef(v, 'canary');
    const o = v as Record<string, unknown>;
    return { ...ref, slice: checkSlice(o.slice), policy: checkPromotionPolicy(o.policy ?? {}) };
  });
  const history = parse('history', historySteps);
  if (shadow && canary) problems.push('shadow and canary: at most one candidate at a time; both ignored');
  return {
    ...(shadow && !canary ? { shadow } : {}),
    ...(canary && !shadow ? { canary } : {}),
    ...(history ? { history } : {}),
    ...(problems.length > 0 ? { rolloutInvalid: problems.join('; ') } : {}),
  };
}

const refData = (c: CandidateRef) => ({ sequence: c.sequence, revision: c.revision, sha256: c.digest, startedAt: c.startedAt });

/**
 * The pointer data keys of the rollout fields, each absent one as null so a JSON merge
 * patch removes it.
 */
export function rolloutData(f: RolloutFields): Record<string, string | null> {
  return {
    shadow: f.shadow ? JSON.stringify(refData(f.shadow)) : null,
    canary: f.canary ? JSON.stringify({ ...refData(f.canary), slice: f.canary.slice, policy: f.canary.policy }) : null,
    history: f.history && f.history.length > 0 ? JSON.stringify(f.history.slice(-HISTORY_LIMIT)) : null,
  };
}

/** The candidate in progress, whichever kind it is. */
export function candidateOf(f: RolloutFields): { mode: 'shadow'; candidate: ShadowCandidate } | { mode: 'canary'; candidate: CanaryCandidate } | undefined {
  if (f.canary) return { mode: 'canary', candidate: f.canary };
  if (f.shadow) return { mode: 'shadow', candidate: f.shadow };
  return undefined;
}

/** The pointer with no candidate in progress (nor a note of an unreadable one): what a promotion, a rollback or a new candidate starts from. */
export function withoutCandidates<P extends RolloutFields>(pointer: P): Omit<P, 'shadow' | 'canary' | 'rolloutInvalid'> {
  const { shadow: _s, canary: _c, rolloutInvalid: _i, ...rest } = pointer;
  return rest;
}

export function withStep(history: readonly HistoryStep[] | undefined, step: HistoryStep): HistoryStep[] {
  return [...(history ?? []), step].slice(-HISTORY_LIMIT);
}
