// The review recording's spool: JSON lines appended to segment files in a private directory
// (spool.ts privateDirectory: 0700, files 0600; records hold masked request content), bounded
// by size and by age. Recording must never block or fail admission, so:
// - `write` only queues the line in memory (bounded); a timer appends the queue to the
//   current segment in one write, off the review's path;
// - a full spool (after old segments are pruned by age) drops new records, a full queue
//   drops them too, a failing disk (unwritable, ENOSPC) drops the batch: each reason is
//   counted (bouncer_review_records_dropped_total{reason}) and logged once until writing
//   works again; nothing is retried and nothing throws to the caller.
// Segments are named by sequence (16 digits, .jsonl); a new one starts at each open (the
// last one of a crashed process may end in a partial line, which readers report and skip),
// when the current one reaches SEGMENT_BYTES, and when it is older than a quarter of the age
// limit, so the age limit removes whole old segments while keeping recent ones.
import { appendFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { privateDirectory } from './spool.js';
import type { RecordingMetrics } from './recording-metrics.js';

export interface RecordSpoolOptions {
  readonly dir: string;
  readonly maxBytes: number;
  /** Segments whose last write is older than this are deleted. */
  readonly maxAgeMs: number;
  readonly metrics: RecordingMetrics;
  readonly log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** How often queued records are written (default 100 ms). */
  readonly flushMs?: number;
  readonly now?: () => number;
}

export interface RecordSpool {
  /** Queues one record line; never blocks on the disk, never throws. */
  write(line: string): void;
  /** Writes what is queued now (called on shutdown too). */
  flush(): void;
  close(): void;
}

const SEGMENT_BYTES = 8 * 1024 * 1024;
/** Records queued between writes, at most; beyond it they are dropped (memory_full). */
const MAX_QUEUED = 10_000;
const SEGMENT = /^\d{16}\.jsonl$/;

/** The segment files of a recording directory, oldest first. */
export function recordSegments(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => SEGMENT.test(f))
    .sort()
    .map((f) => join(dir, f));
}

export function openRecordSpool(options: RecordSpoolOptions): RecordSpool {
  const { dir, metrics, log } = options;
  const now = options.now ?? Date.now;
  privateDirectory(dir, 'review recording directory');
  const segments: { path: string; bytes: number; modified: number }[] = recordSegments(dir).map((path) => {
    const s = statSync(path);
    return { path, bytes: s.size, modified: s.mtimeMs };
  });
  let sequence = segments.length > 0 ? Number(/(\d{16})\.jsonl$/.exec(segments.at(-1)?.path ?? '')?.[1] ?? 0) : 0;
  let current: { path: string; bytes: number; modified: number; created: number } | undefined;
  let total = segments.reduce((n, s) => n + s.bytes, 0);
  let queue: string[] = [];
  let failing: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  metrics.spoolBytes(total);

  const dropped = (reason: string, n: number, err?: unknown) => {
    metrics.dropped(reason, n);
    if (failing === reason) return;
    failing = reason;
    const why = reason === 'spool_full' ? `the recording directory holds --record-max-mb (${options.maxBytes} bytes)` : reason === 'memory_full' ? 'records arrive faster than the disk takes them' : 'the recording directory cannot be written';
    log.warn({ ...(err ? { err } : {}), dir, reason }, `review records dropped: ${why}; admission is unaffected (bouncer_review_records_dropped_total counts them)`);
  };

  /** Deletes segments (never the current one) whose last write is older than the age limit. */
  const prune = () => {
    const cutoff = now() - options.maxAgeMs;
    while (segments.length > 0 && (segments[0]?.modified ?? Infinity) < cutoff && segments[0]?.path !== current?.path) {
      const old = segments.shift() as (typeof segments)[number];
      try {
        rmSync(old.path, { force: true });
      } catch {
        // Left for the next prune; its bytes stay counted.
        segments.unshift(old);
        return;
      }
      total -= old.bytes;
    }
  };

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return;
    const lines = queue;
    queue = [];
    const at = now();
    if (current && (current.bytes >= SEGMENT_BYTES || at - current.created > options.maxAgeMs / 4)) current = undefined;
    prune();
    const accepted: string[] = [];
    let added = 0;
    for (const line of lines) {
      const size = Buffer.byteLength(line) + 1;
      if (total + added + size > options.maxBytes) continue;
      accepted.push(line);
      added += size;
    }
    if (accepted.length < lines.length) dropped('spool_full', lines.length - accepted.length);
    if (accepted.length === 0) return;
    try {
      if (!current) {
        sequence++;
        current = { path: join(dir, `${String(sequence).padStart(16, '0')}.jsonl`), bytes: 0, modified: at, created: at };
        segments.push(current);
      }
      appendFileSync(current.path, `${accepted.join('\n')}\n`, { mode: 0o600 });
    } catch (err) {
      dropped('write_failed', accepted.length, err);
      // The segment may hold part of the batch: start another one for what follows.
      current = undefined;
      return;
    }
    current.bytes += added;
    current.modified = at;
    total += added;
    metrics.recorded(accepted.length);
    metrics.spoolBytes(total);
    if (failing && accepted.length === lines.length) {
      log.info({ dir }, 'review records are written again');
      failing = undefined;
    }
  };

  return {
    write(line) {
      if (closed) return;
      if (queue.length >= MAX_QUEUED) {
        dropped('memory_full', 1);
        return;
      }
      queue.push(line);
      if (!timer) {
        timer = setTimeout(flush, options.flushMs ?? 100);
        timer.unref();
      }
    },
    flush,
    close() {
      flush();
      closed = true;
    },
  };
}
