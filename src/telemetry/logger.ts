// The logger factory. Nothing logs at import time; main.ts builds one logger and hands
// it down. Tests pass a destination stream and read the lines back as objects.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level?: string;
  readonly destination?: DestinationStream;
}

/** Paths that may carry secrets never reach a log line unmasked. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.data',
  '*.stringData',
  '*.env[*].value',
  'tls.key',
  'keyPem',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'bouncer' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
