// Delivers decision events to an HTTP sink in OPA's decision-log upload format (a gzipped
// JSON array per POST), through the on-disk spool: events are recorded without waiting
// for the sink, delivered in order, retried with capped exponential backoff, and removed
// from the spool only after the sink acknowledged them with a 2xx. A batch whose answer is
// lost (the sink dies mid-request) is sent again: sinks deduplicate by decision_id.
// https://www.openpolicyagent.org/docs/management-decision-logs
import { gzipSync } from 'node:zlib';
import { jsonText } from './json-text.js';
import { openSpool } from './spool.js';

export interface ShipperMetrics {
  emitted(n: number): void;
  delivered(n: number): void;
  dropped(reason: string, n: number): void;
  buffered(events: number, bytes: number): void;
  deliveryFailed(): void;
}

export interface ShipperOptions {
  readonly url: string;
  readonly spoolDir: string;
  readonly maxSpoolBytes: number;
  readonly batchSize?: number;
  readonly maxBatchBytes?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly requestTimeoutMs?: number;
  readonly metrics: ShipperMetrics;
  readonly log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface DecisionShipper {
  /** Queues one event; never blocks on the sink or the disk. */
  record(event: object): void;
  /** Writes queued events to the spool (called on shutdown too). */
  flush(): void;
  /** Stops delivering after the current attempt; the spool keeps what is left. */
  stop(): Promise<void>;
}

/** Events held in memory between spool writes; beyond it they are dropped and counted. */
const MAX_PENDING = 50_000;

export function createDecisionShipper(options: ShipperOptions): DecisionShipper {
  const { metrics, log } = options;
  const spool = openSpool(options.spoolDir, options.maxSpoolBytes);
  const batchSize = options.batchSize ?? 500;
  const maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  let pending: string[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  let running = true;
  /** Ends the current sleep: on stop always; on new events only while idle, so traffic during an outage cannot hasten (and so escalate) the retry backoff. */
  let wakeOnStop: (() => void) | undefined;
  let wakeOnEvents: (() => void) | undefined;
  let backoff = minBackoff;
  let failing = false;

  const reportDepth = () => {
    const { events, bytes } = spool.depth();
    metrics.buffered(events + pending.length, bytes);
  };
  reportDepth();

  function flush(): void {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    const refused = spool.append(lines);
    if (refused > 0) metrics.dropped('spool_full', refused);
    reportDepth();
    wakeOnEvents?.();
  }

  const sleep = (ms: number, untilEvents: boolean) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        wakeOnStop = wakeOnEvents = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      wakeOnStop = done;
      wakeOnEvents = untilEvents ? done : undefined;
    });

  async function deliver(lines: string[]): Promise<boolean> {
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(`[${lines.join(',')}]`),
        signal: AbortSignal.timeout(options.requestTimeoutMs ?? 10_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return true;
      log.warn({ status: response.status, sink: options.url }, 'decision log sink refused a batch; retrying');
    } catch (err) {
      if (!failing) log.warn({ err, sink: options.url }, 'decision log sink unreachable; spooling to disk and retrying');
    }
    return false;
  }

  const loop = (async () => {
    while (running) {
      const batch = spool.peek(batchSize, maxBatchBytes);
      if (batch.length === 0) {
        await sleep(500, true);
        continue;
      }
      if (await deliver(batch)) {
        spool.ack(batch.length);
        metrics.delivered(batch.length);
        reportDepth();
        if (failing) log.info({ sink: options.url }, 'decision log sink reachable again');
        failing = false;
        backoff = minBackoff;
      } else {
        failing = true;
        metrics.deliveryFailed();
        await sleep(backoff, false);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  })();

  return {
    record(event) {
      metrics.emitted(1);
      if (pending.length >= MAX_PENDING) {
        metrics.dropped('memory_full', 1);
        return;
      }
      pending.push(jsonText(event));
      flushTimer ??= setTimeout(flush, 20);
    },
    flush,
    async stop() {
      flush();
      running = false;
      wakeOnStop?.();
      await loop;
    },
  };
}
