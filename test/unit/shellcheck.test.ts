// Every shell script of the project passes shellcheck. Skipped only where shellcheck is not
// installed (hack/ensure-tools.sh installs it when it can).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const scripts = [
  ...readdirSync('hack')
    .filter((f) => f.endsWith('.sh'))
    .map((f) => `hack/${f}`),
  '.ci/run',
];
const installed = spawnSync('shellcheck', ['--version']).status === 0;

describe.skipIf(!installed)('shellcheck', () => {
  it.each(scripts)('%s', (script) => {
    const result = spawnSync('shellcheck', ['--external-sources', script], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
