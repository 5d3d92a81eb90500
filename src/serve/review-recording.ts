// The review recording of `bouncer serve` (--record-dir): a sampled share of decisions, each
// turned into a replayable record (review/review-record.ts) after the answer is on its way,
// and written to the bounded spool (telemetry/record-spool.ts). Nothing here can delay or
// fail a review: the record is built in a later turn of the event loop, any error building it
// is counted and logged once, and the spool never throws.
import type { AdmissionRequest } from '../admission/types.js';
import type { PolicySet } from '../bundles/policy-set.js';
import type { Decision } from '../review/decision.js';
import { reviewRecordLine, toReviewRecord } from '../review/review-record.js';
import type { Logger } from '../telemetry/logger.js';
import { openRecordSpool } from '../telemetry/record-spool.js';
import type { RecordingMetrics } from '../telemetry/recording-metrics.js';

export interface ReviewRecordingOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly sample: number;
  readonly maskPointers: readonly string[];
  readonly policies: () => PolicySet | undefined;
  /** labels.id of every record (the replica). */
  readonly replica: string;
  readonly metrics: RecordingMetrics;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly flushMs?: number;
}

export interface ReviewRecording {
  /** The reviewer's clock (ReviewerDeps.clockNs): one time per review, recorded with it. */
  readonly clockNs: () => bigint;
  /** Called with every decision; records a sampled share of them. Never throws. */
  record(decision: Decision, request: AdmissionRequest): void;
  close(): void;
}

/** Epoch nanoseconds, at the resolution of performance.now (as wasm-host.ts's clock). */
export function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

export function createReviewRecording(options: ReviewRecordingOptions): ReviewRecording {
  const log = options.logger.child({ component: 'review-recording' });
  const spool = openRecordSpool({ dir: options.dir, maxBytes: options.maxBytes, maxAgeMs: options.maxAgeMs, metrics: options.metrics, log, ...(options.flushMs ? { flushMs: options.flushMs } : {}) });
  const random = options.random ?? Math.random;
  let buildFailed = false;
  return {
    clockNs: wallClockNs,
    record(decision, request) {
      if (options.sample < 1 && random() >= options.sample) return;
      // The set is read now, with the decision: toReviewRecord keeps it only if its revision is the decision's.
      const set = options.policies();
      const now = new Date();
      setImmediate(() => {
        try {
          spool.write(reviewRecordLine(toReviewRecord(decision, { request }, { set, maskPointers: options.maskPointers, labels: { id: options.replica }, now })));
        } catch (err) {
          options.metrics.dropped('build_failed', 1);
          if (!buildFailed) log.warn({ err, uid: request.uid }, 'a review could not be recorded; admission is unaffected (logged once)');
          buildFailed = true;
        }
      });
    },
    close: () => spool.close(),
  };
}
