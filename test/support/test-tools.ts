// Test-only tools (shellcheck, promtool): on PATH, else what hack/ensure-tools.sh test-tools
// has fetched into the cache (in CI, or with BOUNCER_INSTALL_TEST_TOOLS=1). A developer without
// them gets the tests that need them skipped, with a line saying how to get them; CI never
// skips: there a missing tool fails the run.
import { spawnSync } from 'node:child_process';
import { ensureTools } from '../../hack/lib/tools.js';

const found = new Map<string, string | undefined>();

export function testTool(name: 'shellcheck' | 'promtool'): string | undefined {
  if (!found.has(name)) {
    const onPath = spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    const path = onPath.status === 0 && onPath.stdout.trim() ? onPath.stdout.trim() : ensureTools('test-tools')[name === 'shellcheck' ? 'SHELLCHECK' : 'PROMTOOL'];
    if (!path && process.env.CI === 'true') throw new Error(`${name} is required in CI and hack/ensure-tools.sh test-tools could not fetch it`);
    found.set(name, path);
  }
  return found.get(name);
}

let gatorPath: { path: string | undefined } | undefined;

/**
 * gator (Gatekeeper's CLI), for the tests comparing `bouncer verify` with `gator verify`:
 * GATOR_BIN, else what hack/ensure-tools.sh gator has built into the cache (CI builds it).
 * Without it the tests are skipped, except in CI, where a missing gator fails the run.
 */
export function gatorTool(): string | undefined {
  if (gatorPath === undefined) {
    let path = process.env['GATOR_BIN'] || undefined;
    if (!path) {
      try {
        path = ensureTools('gator').GATOR;
      } catch {
        path = undefined;
      }
    }
    if (!path && process.env.CI === 'true') throw new Error('gator is required in CI and hack/ensure-tools.sh gator could not build it');
    gatorPath = { path };
  }
  return gatorPath.path;
}
