// Command-line options of the harness (`npm run bench -- ...`).
import { parseArgs } from 'node:util';
import { SYSTEMS, type SystemName } from './targets.js';
import { parseDuration } from '../src/config/settings.js';

export const SECTIONS = ['main', 'variants', 'goal', 'scaling', 'cores'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  readonly quick: boolean;
  readonly systems: readonly SystemName[];
  readonly sections: readonly Section[];
  readonly rates: readonly number[];
  /** Each measured open-loop run. */
  readonly durationMs: number;
  readonly saturationMs: number;
  readonly warmupMs: number;
  readonly repetitions: number;
  readonly connections: number;
  readonly maxOutstanding: number;
  readonly corpusSize: number;
  readonly seed: number;
  /** Policy counts of the scaling runs. */
  readonly policyCounts: readonly number[];
  readonly scalingRate: number;
  readonly scalingMs: number;
  /** The "~20 policies, ~5 KB" goal check. */
  readonly goalPolicies: number;
  readonly goalRate: number;
  readonly pin: boolean;
  readonly outDir: string;
  /** Rewrite docs/performance.md from this run. */
  readonly docs: boolean;
  readonly docsFile: string;
  /** Wait up to this long for other processes to leave the CPUs alone before each run. */
  readonly quietWaitMs: number;
  /** Extra arguments for `bouncer serve` in every configuration. */
  readonly bouncerArgs: readonly string[];
  /** The policy library benchmarked and copied (default: the starter library, policies/). */
  readonly policySource: string | undefined;
  /** Profile bouncer's main thread into this directory (bench/cpu-profile-hook.mjs). */
  readonly cpuProfDir: string | undefined;
}

export const USAGE = `usage: npm run bench -- [options]
  --quick                 seconds-long smoke: one rate, one repetition, a small corpus, main comparison only
  --only LIST             systems, comma-separated: bouncer,opa,floor (default all three)
  --sections LIST         main,variants,goal,scaling,cores (default all; --quick: main)
                          variants: bouncer with its default decision log, and with --workers 0
  --rates LIST            open-loop rates in reviews/s (default 250,500,1000,2000)
  --duration D            each measured open-loop run, e.g. 10s, 4000ms (default 3s)
  --saturation D          each closed-loop run (default 3s)
  --warmup D              discarded load before measuring each system (default 2s)
  --reps N                repetitions of every run (default 3)
  --connections N         closed-loop connections (default 16)
  --max-outstanding N     open-loop bound on requests in flight (default 64)
  --corpus-size N         reviews per corpus (default 400)
  --seed N                corpus seed
  --policies LIST         policy counts of the scaling runs (default 1,10,100,300)
  --scaling-rate N        open-loop rate of the scaling runs (default 50)
  --scaling-duration D    each scaling run (default 2.5s)
  --no-pin                do not pin the client and the servers to separate CPUs
  --out DIR               results directory (default bench/results)
  --docs / --no-docs      rewrite docs/performance.md (default: only for a full default run)
  --docs-file FILE        (default docs/performance.md)
  --quiet-wait D          wait up to D for an idle machine before each run (default 20s)
  --policy-source DIR     the policy library to benchmark instead of policies/ (same layout, with lib/ and the
                          starter policy ids), e.g. a copy with a changed lib/kubernetes.rego
  --cpu-prof DIR          write a CPU profile of each bouncer process's main thread to DIR
                          (summarize with: npx tsx bench/profile-summary.ts DIR/FILE.cpuprofile)
  --bouncer-arg ARG       extra argument for \`bouncer serve\` (repeatable), e.g. --bouncer-arg=--workers=0`;

function numbers(text: string, what: string): number[] {
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`${what} must be positive numbers, comma-separated`);
  return list;
}

function positive(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${what} must be a positive integer`);
  return n;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      sections: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      saturation: { type: 'string' },
      warmup: { type: 'string' },
      reps: { type: 'string' },
      connections: { type: 'string' },
      'max-outstanding': { type: 'string' },
      'corpus-size': { type: 'string' },
      seed: { type: 'string' },
      policies: { type: 'string' },
      'scaling-rate': { type: 'string' },
      'scaling-duration': { type: 'string' },
      pin: { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      out: { type: 'string' },
      docs: { type: 'boolean' },
      'no-docs': { type: 'boolean' },
      'docs-file': { type: 'string' },
      'quiet-wait': { type: 'string' },
      'bouncer-arg': { type: 'string', multiple: true },
      'cpu-prof': { type: 'string' },
      'policy-source': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const quick = values.quick === true;
  const systems = values.only ? values.only.split(',').map((s) => s.trim()) : [...SYSTEMS];
  for (const s of systems) if (!SYSTEMS.includes(s as SystemName)) throw new Error(`--only: unknown system ${JSON.stringify(s)} (bouncer, opa, floor)`);
  const sections = values.sections ? values.sections.split(',').map((s) => s.trim()) : quick ? ['main'] : [...SECTIONS];
  for (const s of sections) if (!SECTIONS.includes(s as Section)) throw new Error(`--sections: unknown section ${JSON.stringify(s)} (${SECTIONS.join(', ')})`);
  const fullDefault = !quick && !values.only && !values.sections && !values.rates && !values.duration && !values.reps && !values.policies && !values['bouncer-arg'] && !values['policy-source'];
  return {
    quick,
    systems: systems as SystemName[],
    sections: sections as Section[],
    rates: values.rates ? numbers(values.rates, '--rates') : quick ? [200] : [250, 500, 1000, 2000],
    durationMs: values.duration ? parseDuration(values.duration) : quick ? 1_500 : 3_000,
    saturationMs: values.saturation ? parseDuration(values.saturation) : quick ? 1_500 : 3_000,
    warmupMs: values.warmup ? parseDuration(values.warmup) : quick ? 500 : 2_000,
    repetitions: positive(values.reps, '--reps', quick ? 1 : 3),
    connections: positive(values.connections, '--connections', 16),
    maxOutstanding: positive(values['max-outstanding'], '--max-outstanding', 64),
    corpusSize: positive(values['corpus-size'], '--corpus-size', quick ? 60 : 400),
    seed: values.seed === undefined ? 20_251_128 : positive(values.seed, '--seed', 1),
    policyCounts: values.policies ? numbers(values.policies, '--policies') : quick ? [1, 10] : [1, 10, 100, 300],
    scalingRate: positive(values['scaling-rate'], '--scaling-rate', 50),
    scalingMs: values['scaling-duration'] ? parseDuration(values['scaling-duration']) : quick ? 1_000 : 2_500,
    goalPolicies: 20,
    goalRate: 1000,
    pin: values['no-pin'] === true ? false : true,
    outDir: values.out ?? 'bench/results',
    docs: values['no-docs'] === true ? false : values.docs === true ? true : fullDefault,
    docsFile: values['docs-file'] ?? 'docs/performance.md',
    quietWaitMs: values['quiet-wait'] ? parseDuration(values['quiet-wait']) : quick ? 0 : 20_000,
    cpuProfDir: values['cpu-prof'],
    policySource: values['policy-source'],
    bouncerArgs: (values['bouncer-arg'] ?? []).flatMap((a) => (a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a])),
  };
}
