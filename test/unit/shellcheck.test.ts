// Every shell script of the project passes shellcheck. Skipped where shellcheck cannot be had
// on a developer's machine; in CI a missing shellcheck fails (test/support/test-tools.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testTool } from '../support/test-tools.js';

const scripts = [
  ...readdirSync('hack')
    .filter((f) => f.endsWith('.sh'))
    .map((f) => `hack/${f}`),
  '.ci/run',
];
const shellcheck = testTool('shellcheck');

describe.skipIf(!shellcheck)('shellcheck', () => {
  it.each(scripts)('%s', (script) => {
    const result = spawnSync(shellcheck as string, ['--external-sources', script], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
