// manifests/base/rbac-inventory.yaml is generated from the kinds the shipped policies replicate;
// a policy that starts (or stops) reading a kind from data.inventory has to show up there too,
// or bouncer could not list it (or could read more than it needs).
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { manifestsCommand } from '../../src/cli/manifests-command.js';

const FILE = 'manifests/base/rbac-inventory.yaml';

describe(FILE, () => {
  it('is what `bouncer manifests --rbac --policies policies` renders', async () => {
    let out = '';
    let err = '';
    const code = await manifestsCommand({ args: ['--rbac', '--policies', 'policies'], env: { OPA_BIN: inject('opa') }, stdout: (t) => (out += t), stderr: (t) => (err += t), stdin: () => '' });
    expect(code, err).toBe(0);
    expect(readFileSync(FILE, 'utf8'), `${FILE} is out of date; regenerate it with:\n  node bin/bouncer.js manifests --rbac --policies policies > ${FILE}`).toBe(out);
  });
});
