// Runs the OPA CLI. Its failures become OPA_FAILED errors carrying OPA's own output,
// which names the file and line a policy author has to fix.
import { execFile } from 'node:child_process';
import { BouncerError } from '../errors/errors.js';

export interface OpaResult {
  readonly stdout: string;
  readonly stderr: string;
}

export function runOpa(opa: string, args: readonly string[], cwd?: string): Promise<OpaResult> {
  return new Promise((resolve, reject) => {
    execFile(opa, args, { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const code = (err as NodeJS.ErrnoException).code;
      const what = code === 'ENOENT' ? `the OPA CLI was not found at ${opa} (set OPA_BIN)` : `opa ${args[0]} failed`;
      reject(new BouncerError('OPA_FAILED', `${what}:\n${(stderr || stdout || err.message).trim()}`, { cause: err, details: { stdout, stderr } }));
    });
  });
}
