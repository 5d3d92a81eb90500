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

/**
 * Builds and runs `program` (package main) with `input` as JSON on stdin; its stdout parsed as
 * JSON. `requires` are module requirements ("go.yaml.in/yaml/v3 v3.0.6"), taken from the local
 * module cache only (GOPROXY=off): the oracle never downloads.
 */
export function runGo<T>(program: string, input: unknown, requires: readonly string[] = []): T {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-go-oracle-'));
  try {
    writeFileSync(join(dir, 'go.mod'), `module oracle\n\ngo 1.22\n${requires.map((r) => `\nrequire ${r}\n`).join('')}`);
    writeFileSync(join(dir, 'main.go'), program);
    const out = execFileSync('go', ['run', '.'], { cwd: dir, input: JSON.stringify(input), encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off', GOSUMDB: 'off' }, stdio: ['pipe', 'pipe', 'pipe'] });
    return JSON.parse(out) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
