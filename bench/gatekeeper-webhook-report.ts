// The Gatekeeper side-by-side benchmark's results (bench/gatekeeper-webhook.ts) and their
// Markdown tables: per variant and corpus, saturation, open-loop p50/p99 per rate, and bouncer's
// cost at 100 constraints against 1; each cell the median (min–max) of the repetitions.
import type { ServerName } from './webhook-decisions.js';

export interface Measurement {
  readonly server: ServerName;
  readonly rep: number;
  /** 0: closed loop (saturation). */
  readonly rate: number;
  readonly durationMs: number;
  readonly requests: number;
  readonly correct: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerReview: number;
  readonly codes: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly loadAverage: number;
}

export interface CorpusResult {
  readonly corpus: string;
  readonly reviews: number;
  readonly bytes: { readonly min: number; readonly max: number; readonly mean: number };
  readonly denied: number;
  readonly rates: readonly number[];
  readonly measurements: readonly Measurement[];
}

export interface VariantResult {
  readonly label: string;
  readonly templates: number;
  readonly constraintsPerTemplate: number;
  readonly gatekeeperIngestMs: number;
  readonly corpora: readonly CorpusResult[];
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const spread = (xs: readonly number[], digits: number): string => {
  const f = (x: number) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return xs.length === 0 ? '–' : `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
};

export function markdown(variants: readonly VariantResult[]): string {
  const pick = (c: CorpusResult, server: ServerName, rate: number, f: (m: Measurement) => number) => c.measurements.filter((m) => m.server === server && m.rate === rate).map(f);
  let out = '### Saturation (closed loop; correct answers/s: median (min–max) of the repetitions)\n\n';
  out += '| variant | corpus | Gatekeeper /s | bouncer /s | ratio (goal ≥ 3) | Gatekeeper CPU µs/review | bouncer CPU µs/review |\n|---|---|---:|---:|---:|---:|---:|\n';
  for (const v of variants) {
    for (const c of v.corpora) {
      const gk = pick(c, 'gatekeeper', 0, (m) => m.throughput);
      const b = pick(c, 'bouncer', 0, (m) => m.throughput);
      out += `| ${v.label} | ${c.corpus} | ${spread(gk, 0)} | ${spread(b, 0)} | ${(median(b) / median(gk)).toFixed(1)}× | ${spread(pick(c, 'gatekeeper', 0, (m) => m.cpuUsPerReview), 0)} | ${spread(pick(c, 'bouncer', 0, (m) => m.cpuUsPerReview), 0)} |\n`;
    }
  }
  out += '\n### Open loop (ms: median (min–max) of the repetitions)\n\n';
  out += '| variant | corpus | rate /s | Gatekeeper p50 | Gatekeeper p99 | bouncer p50 | bouncer p99 | p99 ratio (goal ≥ 3) |\n|---|---|---:|---:|---:|---:|---:|---:|\n';
  for (const v of variants) {
    for (const c of v.corpora) {
      for (const rate of c.rates) {
        const gk99 = pick(c, 'gatekeeper', rate, (m) => m.p99Ms);
        const b99 = pick(c, 'bouncer', rate, (m) => m.p99Ms);
        out += `| ${v.label} | ${c.corpus} | ${rate} | ${spread(pick(c, 'gatekeeper', rate, (m) => m.p50Ms), 2)} | ${spread(gk99, 2)} | ${spread(pick(c, 'bouncer', rate, (m) => m.p50Ms), 2)} | ${spread(b99, 2)} | ${(median(gk99) / median(b99)).toFixed(1)}× |\n`;
      }
    }
  }
  const one = variants.find((v) => v.templates === 1 && v.constraintsPerTemplate === 1);
  const hundred = variants.find((v) => v.templates === 1 && v.constraintsPerTemplate === 100);
  if (one && hundred) {
    out += '\n### bouncer: cost at 100 constraints of one template against 1 (goal ≤ 2×)\n\n| corpus | CPU µs/review at saturation, 1 | at 100 | ratio | saturation 1 / 100 |\n|---|---:|---:|---:|---:|\n';
    for (const c1 of one.corpora) {
      const c100 = hundred.corpora.find((c) => c.corpus === c1.corpus);
      if (!c100) continue;
      const cost1 = median(pick(c1, 'bouncer', 0, (m) => m.cpuUsPerReview));
      const cost100 = median(pick(c100, 'bouncer', 0, (m) => m.cpuUsPerReview));
      const sat = median(pick(c1, 'bouncer', 0, (m) => m.throughput)) / median(pick(c100, 'bouncer', 0, (m) => m.throughput));
      out += `| ${c1.corpus} | ${cost1.toFixed(0)} | ${cost100.toFixed(0)} | ${(cost100 / cost1).toFixed(2)}× | ${sat.toFixed(2)}× |\n`;
    }
  }
  return out;
}
