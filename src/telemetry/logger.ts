// The logger factory. Nothing logs at import time; main.ts builds one logger and hands
// it down. Tests pass a destination stream and read the lines back as objects.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level?: string;
  /** Default: stdout, written asynchronously (see stdoutDestination). */
  readonly destination?: DestinationStream;
  /** Called with the number of lines stdout dropped because its reader stalled too long. */
  readonly onDropped?: (lines: number) => void;
  /** Bytes held for a stalled stdout reader (default STDOUT_BUFFER_LIMIT). */
  readonly stdoutBufferBytes?: number;
}

/** Bytes of log lines held for a stalled stdout reader before lines are dropped (and counted). */
export const STDOUT_BUFFER_LIMIT = 64 * 1024 * 1024;

/**
 * stdout, written asynchronously: a review never waits for the reader of the pipe (the
 * container runtime). Lines written while a write is in flight go out together; pino
 * flushes what is buffered when the process exits. A reader stalled for longer than the
 * buffer lasts costs log lines, counted through `onDropped`, never a stalled review.
 */
function stdoutDestination(onDropped: ((lines: number) => void) | undefined, maxLength: number): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, maxLength });
  stream.on('drop', (data: string | Buffer) => onDropped?.(String(data).split('\n').length - 1 || 1));
  return stream;
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
    options.destination ?? stdoutDestination(options.onDropped, options.stdoutBufferBytes ?? STDOUT_BUFFER_LIMIT),
  );
}
