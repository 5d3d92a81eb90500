// What every command gets from the entry point: its arguments, output streams and the
// environment, passed in so commands are testable without a process.
import { fileURLToPath } from 'node:url';

export interface CliContext {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: () => string;
}

/** The bouncer package root (holds hack/ in a checkout). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const EXIT = { ok: 0, failed: 1, error: 2 } as const;
