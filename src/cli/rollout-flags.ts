// The rollout flags of `bouncer push`: --shadow, or --canary namespaces=<selector> and/or
// --canary percent=<N> with the promotion policy (--canary-window, --canary-min-reviews,
// --canary-max-deny-rate-increase, --canary-max-error-rate-increase, --canary-max-p99-ratio),
// turned into the candidate the store writes on the pointer. Checked here, before anything
// is stored, with the same slice compiler every replica uses.
import { compileSlice } from '../bundles/canary-slice.js';
import type { CandidateRequest } from '../cluster/bundle-store.js';
import { DEFAULT_PROMOTION_POLICY, type CanarySlice, type PromotionPolicy } from '../cluster/rollout-objects.js';
import { parseDuration } from '../config/settings.js';
import { BouncerError } from '../errors/errors.js';

export const ROLLOUT_OPTIONS = {
  shadow: { type: 'boolean' },
  canary: { type: 'string', multiple: true },
  'canary-window': { type: 'string' },
  'canary-min-reviews': { type: 'string' },
  'canary-max-deny-rate-increase': { type: 'string' },
  'canary-max-error-rate-increase': { type: 'string' },
  'canary-max-p99-ratio': { type: 'string' },
} as const;

export const ROLLOUT_USAGE =
  '[--shadow | --canary namespaces=SELECTOR --canary percent=N [--canary-window 10m] [--canary-min-reviews 100] [--canary-max-deny-rate-increase 0.01] [--canary-max-error-rate-increase 0.01] [--canary-max-p99-ratio 2]]';

interface RolloutValues {
  readonly shadow?: boolean;
  readonly canary?: string[];
  readonly 'canary-window'?: string;
  readonly 'canary-min-reviews'?: string;
  readonly 'canary-max-deny-rate-increase'?: string;
  readonly 'canary-max-error-rate-increase'?: string;
  readonly 'canary-max-p99-ratio'?: string;
}

function parseSlice(parts: readonly string[]): CanarySlice {
  let namespaces: string | undefined;
  let percent: number | undefined;
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'namespaces') {
      if (namespaces !== undefined) throw new BouncerError('CONFIG_INVALID', '--canary namespaces= is given twice (join the requirements with commas)');
      namespaces = value;
    } else if (key === 'percent') {
      const n = Number(value);
      if (percent !== undefined || value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 100) throw new BouncerError('CONFIG_INVALID', `--canary percent= must be one number in (0, 100], got ${JSON.stringify(value)}`);
      percent = n;
    } else {
      throw new BouncerError('CONFIG_INVALID', `--canary takes namespaces=<label selector> or percent=<N>, got ${JSON.stringify(part)}`);
    }
  }
  const slice = { ...(namespaces === undefined ? {} : { namespaces }), ...(percent === undefined ? {} : { percent }) };
  compileSlice(slice);
  return slice;
}

function number(values: RolloutValues, flag: keyof RolloutValues, fallback: number, check: (n: number) => boolean, what: string): number {
  const text = values[flag];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(n) || !check(n)) throw new BouncerError('CONFIG_INVALID', `--${flag} must be ${what}, got ${JSON.stringify(text)}`);
  return n;
}

/** The candidate a push asks for, or undefined for an ordinary push (activate now). */
export function candidateRequest(values: RolloutValues): CandidateRequest | undefined {
  const canary = values.canary ?? [];
  const policyFlags = (Object.keys(ROLLOUT_OPTIONS) as (keyof RolloutValues)[]).filter((k) => k.startsWith('canary-') && values[k] !== undefined);
  if (values.shadow && canary.length > 0) throw new BouncerError('CONFIG_INVALID', '--shadow and --canary exclude each other: shadow first, then push the same file again with --canary');
  if (canary.length === 0 && policyFlags.length > 0) throw new BouncerError('CONFIG_INVALID', `--${policyFlags[0]} needs --canary`);
  if (values.shadow) return { mode: 'shadow' };
  if (canary.length === 0) return undefined;
  let windowMs = DEFAULT_PROMOTION_POLICY.windowMs;
  if (values['canary-window'] !== undefined) {
    try {
      windowMs = parseDuration(values['canary-window']);
    } catch (err) {
      throw new BouncerError('CONFIG_INVALID', `--canary-window ${(err as Error).message}`);
    }
  }
  const d = DEFAULT_PROMOTION_POLICY;
  const policy: PromotionPolicy = {
    windowMs,
    minReviews: number(values, 'canary-min-reviews', d.minReviews, (n) => Number.isInteger(n) && n >= 1, 'a positive integer'),
    maxDenyRateIncrease: number(values, 'canary-max-deny-rate-increase', d.maxDenyRateIncrease, (n) => n >= 0 && n <= 1, 'a fraction in [0, 1]'),
    maxErrorRateIncrease: number(values, 'canary-max-error-rate-increase', d.maxErrorRateIncrease, (n) => n >= 0 && n <= 1, 'a fraction in [0, 1]'),
    maxP99Ratio: number(values, 'canary-max-p99-ratio', d.maxP99Ratio, (n) => n >= 1, 'a ratio >= 1'),
  };
  return { mode: 'canary', slice: parseSlice(canary.flatMap((c) => splitCanary(c))), policy };
}

/** `--canary namespaces=a=b,c in (x,y)` is one value; `percent=` may follow after a ';'. */
function splitCanary(value: string): string[] {
  return value.split(';').map((v) => v.trim()).filter((v) => v !== '');
}
