// Runs a small stdlib-only Go program as the oracle for behaviour bouncer reproduces from Go
// (regexp, fmt): the program reads JSON from stdin and prints JSON. Skipped (undefined) when
// no Go toolchain is on PATH.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function goAvailable(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds and runs `program` (package main) with `input` as JSON on stdin; its stdout parsed as JSON. */
export function runGo<T>(program: string, input: unknown): T {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-go-oracle-'));
  try {
    writeFileSync(join(dir, 'go.mod'), 'module oracle\n\ngo 1.22\n');
    writeFileSync(join(dir, 'main.go'), program);
    const out = execFileSync('go', ['run', '.'], { cwd: dir, input: JSON.stringify(input), encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' } });
    return JSON.parse(out) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
