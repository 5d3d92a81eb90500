// The review recording's cost per review and replay's throughput, in-process on this machine:
//   npx tsx bench/recording.ts [--count 2000] [--profile mixed]
// - review: admission's reviewer (this thread) on the starter policies over the bench corpus,
//   with and without a pinned clock (what recording turns on for every review);
// - record: building one record (masking, OPA event) and its JSON line, per sampled review;
// - spool: queueing and writing the lines (one append per batch, as the 100 ms timer does);
// - replay: `bouncer replay`'s loop (checks, masked-read analysis, evaluation, diff) over the
//   recorded corpus, records/s (bundle loading and the OPA parse of its Rego reported apart).
// Prints one JSON object; docs/performance.md quotes it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { checkReview } from '../src/admission/decode.js';
import { buildBundle } from '../src/authoring/build.js';
import { loadBundle } from '../src/bundles/bundle.js';
import { createPolicySet } from '../src/bundles/policy-set.js';
import { readRecordFile } from '../src/replay/read-records.js';
import { replayRecords } from '../src/replay/replay-records.js';
import { bundleInputReads } from '../src/replay/replay-set.js';
import type { Decision } from '../src/review/decision.js';
import { createReviewer } from '../src/review/reviewer.js';
import { reviewRecordLine, toReviewRecord } from '../src/review/review-record.js';
import { wallClockNs } from '../src/serve/review-recording.js';
import { openRecordSpool, recordSegments } from '../src/telemetry/record-spool.js';
import { generateCorpus, type CorpusProfile } from './corpus.js';

const { values } = parseArgs({ options: { count: { type: 'string' }, profile: { type: 'string' }, reps: { type: 'string' } } });
const count = Number(values.count ?? 2000);
const reps = Number(values.reps ?? 5);
const profile = (values.profile ?? 'mixed') as CorpusProfile;
const opa = requireTool(ensureTools('opa'), 'OPA');
const dir = mkdtempSync(join(tmpdir(), 'bouncer-bench-recording-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

try {
  const file = join(dir, 'starter.tar.gz');
  await buildBundle({ policiesDir: 'policies', output: file, opa, revision: 'bench-1' });
  const bytes = readFileSync(file);
  const set = createPolicySet([await loadBundle('starter', bytes)]);
  const corpus = generateCorpus({ profile, count }).map((item) => {
    const parsed: unknown = JSON.parse(item.body.toString('utf8'));
    return { raw: new Uint8Array(item.body), review: checkReview(parsed) };
  });
  const plain = createReviewer({ policies: () => set });
  const pinned = createReviewer({ policies: () => set, clockNs: wallClockNs });

  // Warm-up, then alternating repetitions of each variant.
  for (const c of corpus.slice(0, 200)) await plain.review('validate', c.review, c.raw);
  const reviewUs = { plain: [] as number[], pinned: [] as number[] };
  const decisions: Decision[] = [];
  for (let r = 0; r < reps; r++) {
    for (const [name, reviewer] of [['plain', plain], ['pinned', pinned]] as const) {
      const t = performance.now();
      for (const c of corpus) {
        const d = await reviewer.review('validate', c.review, c.raw);
        if (name === 'pinned' && r === 0) decisions.push(d);
      }
      reviewUs[name].push(((performance.now() - t) * 1000) / corpus.length);
    }
  }

  const recordUs: number[] = [];
  let lines: string[] = [];
  for (let r = 0; r < reps; r++) {
    lines = [];
    const t = performance.now();
    corpus.forEach((c, i) => lines.push(reviewRecordLine(toReviewRecord(decisions[i] as Decision, c.review, { set, maskPointers: [] }))));
    recordUs.push(((performance.now() - t) * 1000) / corpus.length);
  }
  const recordBytes = lines.reduce((n, l) => n + l.length + 1, 0) / lines.length;

  const spoolUs: number[] = [];
  const records = join(dir, 'records');
  for (let r = 0; r < reps; r++) {
    rmSync(records, { recursive: true, force: true });
    const spool = openRecordSpool({
      dir: records,
      maxBytes: 1024 * 1024 * 1024,
      maxAgeMs: 86_400_000,
      metrics: { recorded: () => undefined, dropped: () => undefined, spoolBytes: () => undefined },
      log: { warn: () => undefined, info: () => undefined },
    });
    const t = performance.now();
    // Batches of 50, as ~500 reviews/s fill one 100 ms flush.
    for (let i = 0; i < lines.length; i++) {
      spool.write(lines[i] as string);
      if (i % 50 === 49) spool.flush();
    }
    spool.close();
    spoolUs.push(((performance.now() - t) * 1000) / lines.length);
  }

  const t0 = performance.now();
  const reads = await bundleInputReads(bytes, opa);
  const readsMs = performance.now() - t0;
  const read = recordSegments(records).map(readRecordFile);
  const replayRps: number[] = [];
  let replayed = 0;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    const report = await replayRecords(
      read.flatMap((x) => x.records),
      read.flatMap((x) => x.unreadable),
      { candidate: { set, reads: new Map([['starter', reads]]) } },
    );
    replayed = report.coverage.replayed;
    replayRps.push(report.coverage.read / ((performance.now() - t) / 1000));
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        corpus: { profile, count, meanBytes: Math.round(corpus.reduce((n, c) => n + c.raw.byteLength, 0) / corpus.length) },
        reviewUs: { plain: median(reviewUs.plain), pinnedClock: median(reviewUs.pinned) },
        recordBuildUs: median(recordUs),
        recordBytes: Math.round(recordBytes),
        spoolWriteUs: median(spoolUs),
        replay: { recordsPerSecond: Math.round(median(replayRps)), replayed, of: count, regoReadsMs: Math.round(readsMs) },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
