// manifests/base/webhooks.yaml is generated from the policies' scopes; a policy change that
// widens or narrows what the API server must send bouncer has to show up there too.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const FILE = 'manifests/base/webhooks.yaml';

describe(FILE, () => {
  it('is what `bouncer manifests --policies policies` renders', async () => {
    let out = '';
    let err = '';
    const code = await main(['manifests', '--policies', 'policies'], {
      env: { OPA_BIN: inject('opa') },
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      stdin: () => '',
    });
    expect(code, err).toBe(0);
    expect(readFileSync(FILE, 'utf8'), `${FILE} is out of date; regenerate it with:\n  node bin/bouncer.js manifests --policies policies > ${FILE}`).toBe(out);
  });
});
