// Window counts of a rollout on one replica: per candidate (bundle, sequence, startedAt),
// the reviews decided by the active revision and by the canary (reviews, denied, errored,
// an evaluation-time histogram), and the shadow comparisons. Plain numbers that merge by
// addition, so each replica writes its counts into its rollout report on the pointer and
// the promotion controller adds the reports of every replica up (promotion-decision.ts).
// A replica that restarts starts its counts at zero for the same candidate; the window's
// start is the pointer's, so the duration is not reset.

/** Upper bounds (ms) of the evaluation-time buckets; a last, unbounded bucket follows. */
export const WINDOW_BUCKETS_MS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

export interface RoleCounts {
  readonly reviews: number;
  readonly denied: number;
  readonly errored: number;
  /** Reviews per bucket of WINDOW_BUCKETS_MS, plus one for beyond the last. */
  readonly buckets: readonly number[];
}

export interface ShadowCounts {
  readonly compared: number;
  /** Compared reviews on which the shadow's verdict differs for at least one policy. */
  readonly disagreed: number;
  /** Compared reviews the shadow would have denied and the active revision allowed. */
  readonly newlyDenied: number;
  readonly skipped: number;
  readonly failed: number;
  readonly timeout: number;
}

export interface CandidateKey {
  readonly bundle: string;
  readonly sequence: number;
  readonly startedAt: number;
}

export interface CandidateWindow extends CandidateKey {
  readonly mode: 'shadow' | 'canary';
  readonly active: RoleCounts;
  readonly canary: RoleCounts;
  readonly shadow: ShadowCounts;
}

export const emptyCounts = (): RoleCounts => ({ reviews: 0, denied: 0, errored: 0, buckets: new Array<number>(WINDOW_BUCKETS_MS.length + 1).fill(0) });
export const emptyShadow = (): ShadowCounts => ({ compared: 0, disagreed: 0, newlyDenied: 0, skipped: 0, failed: 0, timeout: 0 });

export function mergeCounts(a: RoleCounts, b: RoleCounts): RoleCounts {
  return {
    reviews: a.reviews + b.reviews,
    denied: a.denied + b.denied,
    errored: a.errored + b.errored,
    buckets: a.buckets.map((n, i) => n + (b.buckets[i] ?? 0)),
  };
}

export function mergeShadow(a: ShadowCounts, b: ShadowCounts): ShadowCounts {
  return {
    compared: a.compared + b.compared,
    disagreed: a.disagreed + b.disagreed,
    newlyDenied: a.newlyDenied + b.newlyDenied,
    skipped: a.skipped + b.skipped,
    failed: a.failed + b.failed,
    timeout: a.timeout + b.timeout,
  };
}

/** The p99 evaluation time (ms) as the upper bound of the bucket holding it (Infinity beyond the last), or undefined without reviews. */
export function p99Ms(c: RoleCounts): number | undefined {
  if (c.reviews === 0) return undefined;
  const rank = Math.ceil(c.reviews * 0.99);
  let seen = 0;
  for (let i = 0; i < c.buckets.length; i++) {
    seen += c.buckets[i] ?? 0;
    if (seen >= rank) return WINDOW_BUCKETS_MS[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

/** A report's counts checked before they are added up: anything else is ignored. */
export function readCounts(v: unknown): RoleCounts | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const n = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  if (!n(o.reviews) || !n(o.denied) || !n(o.errored) || !Array.isArray(o.buckets) || o.buckets.length !== WINDOW_BUCKETS_MS.length + 1 || !o.buckets.every(n)) return undefined;
  return { reviews: o.reviews as number, denied: o.denied as number, errored: o.errored as number, buckets: o.buckets as number[] };
}

export function readShadow(v: unknown): ShadowCounts | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const keys = ['compared', 'disagreed', 'newlyDenied', 'skipped', 'failed', 'timeout'] as const;
  if (!keys.every((k) => typeof o[k] === 'number' && Number.isInteger(o[k]) && (o[k] as number) >= 0)) return undefined;
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as unknown as ShadowCounts;
}

const bucketOf = (ms: number): number => {
  const i = WINDOW_BUCKETS_MS.findIndex((b) => ms <= b);
  return i < 0 ? WINDOW_BUCKETS_MS.length : i;
};

interface MutableCounts {
  reviews: number;
  denied: number;
  errored: number;
  buckets: number[];
}

const mutable = (): MutableCounts => ({ ...emptyCounts(), buckets: [...emptyCounts().buckets] });

export interface WindowTracker {
  /** The candidates running now; windows of others are dropped, new ones start at zero. */
  track(candidates: readonly (CandidateKey & { mode: 'shadow' | 'canary' })[]): void;
  /** A review decided by the active revision (`canaries` empty) or by the listed canaries. */
  decided(canaries: readonly { bundle: string; sequence: number }[], allowed: boolean, errored: boolean, ms: number): void;
  /** A shadow evaluation of the bundle's candidate. */
  shadow(bundle: string, sequence: number, result: 'compared' | 'skipped' | 'failed' | 'timeout', disagreed?: boolean, newlyDenied?: boolean): void;
  windows(): CandidateWindow[];
}

export function createWindowTracker(): WindowTracker {
  const windows = new Map<string, { key: CandidateKey & { mode: 'shadow' | 'canary' }; active: MutableCounts; canary: MutableCounts; shadow: { -readonly [K in keyof ShadowCounts]: number } }>();
  const add = (c: MutableCounts, allowed: boolean, errored: boolean, ms: number) => {
    c.reviews++;
    if (!allowed) c.denied++;
    if (errored) c.errored++;
    c.buckets[bucketOf(ms)] = (c.buckets[bucketOf(ms)] ?? 0) + 1;
  };
  return {
    track(candidates) {
      const keep = new Set<string>();
      for (const c of candidates) {
        keep.add(c.bundle);
        const w = windows.get(c.bundle);
        if (w && w.key.sequence === c.sequence && w.key.startedAt === c.startedAt && w.key.mode === c.mode) continue;
        windows.set(c.bundle, { key: { bundle: c.bundle, sequence: c.sequence, startedAt: c.startedAt, mode: c.mode }, active: mutable(), canary: mutable(), shadow: emptyShadow() });
      }
      for (const bundle of [...windows.keys()]) if (!keep.has(bundle)) windows.delete(bundle);
    },
    decided(canaries, allowed, errored, ms) {
      for (const w of windows.values()) {
        if (w.key.mode !== 'canary') continue;
        const mine = canaries.some((c) => c.bundle === w.key.bundle && c.sequence === w.key.sequence);
        // A review another bundle's canary decided is no baseline for this one.
        if (mine) add(w.canary, allowed, errored, ms);
        else if (canaries.length === 0) add(w.active, allowed, errored, ms);
      }
    },
    shadow(bundle, sequence, result, disagreed = false, newlyDenied = false) {
      const w = windows.get(bundle);
      if (!w || w.key.sequence !== sequence) return;
      w.shadow[result]++;
      if (result === 'compared' && disagreed) w.shadow.disagreed++;
      if (result === 'compared' && newlyDenied) w.shadow.newlyDenied++;
    },
    windows: () =>
      [...windows.values()].map((w) => ({ ...w.key, active: { ...w.active, buckets: [...w.active.buckets] }, canary: { ...w.canary, buckets: [...w.canary.buckets] }, shadow: { ...w.shadow } })),
  };
}
