// The metrics of the review recording (record-spool.ts): records written, dropped by reason,
// and the spool's size.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface RecordingMetrics {
  recorded(n: number): void;
  /** spool_full, memory_full, write_failed, build_failed. */
  dropped(reason: string, n: number): void;
  spoolBytes(bytes: number): void;
}

export const RECORD_DROP_REASONS = ['spool_full', 'memory_full', 'write_failed', 'build_failed'] as const;

export function recordingMetrics(registers: Registry[]): RecordingMetrics {
  const recorded = new Counter({ name: 'bouncer_review_records_total', help: 'Reviews recorded to the --record-dir spool (sampled by --record-sample).', registers });
  const dropped = new Counter({
    name: 'bouncer_review_records_dropped_total',
    help: 'Sampled reviews not recorded, by reason (spool_full: --record-max-mb reached; memory_full: the write queue was full; write_failed: the directory could not be written; build_failed: the record could not be built). Admission is never affected.',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of RECORD_DROP_REASONS) dropped.inc({ reason }, 0);
  const bytes = new Gauge({ name: 'bouncer_review_record_spool_bytes', help: 'Bytes of review records held in --record-dir.', registers });
  return {
    recorded: (n) => recorded.inc(n),
    dropped: (reason, n) => dropped.inc({ reason }, n),
    spoolBytes: (b) => bytes.set(b),
  };
}
