// The decision log's fan-out: every decision event goes to stdout (container logs, at level
// info, without the request objects) and, when a sink is configured, to the shipper (with
// them, masked). With neither consumer the log is inactive and no event is built at all.
import type { Logger } from './logger.js';

export interface DecisionLog {
  /** False when nothing would consume an event: callers skip building it. */
  readonly active: boolean;
  record(event: { readonly input?: unknown }): void;
}

export interface DecisionLogOptions {
  readonly logger: Logger;
  readonly shipper?: { record(event: object): void };
}

export function createDecisionLog(options: DecisionLogOptions): DecisionLog {
  const log = options.logger.child({ log: 'decision' });
  const shipper = options.shipper;
  const toStdout = log.isLevelEnabled('info');
  return {
    active: toStdout || shipper !== undefined,
    record(event) {
      if (toStdout) log.info({ decision: { ...event, input: undefined } }, 'decision');
      shipper?.record(event);
    },
  };
}
