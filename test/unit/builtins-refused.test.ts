// Network builtins stay out of the WASM runtime: `bouncer build` refuses a policy calling
// one, and the message names the builtin (OPA's own "undefined function" error, raised by
// the capabilities bouncer passes to `opa build`).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildBundle } from '../../src/authoring/build.js';

const policyCalling = (call: string): string => `# METADATA
# title: Calls a network builtin
# custom:
#   scope:
#     kinds: [ConfigMap]
package policies.network

deny contains "reachable" if {
  ${call}
}
`;

describe('bouncer build refuses network builtins', () => {
  it.each([
    ['http.send', 'http.send({"method": "GET", "url": input.request.object.data.url}).status_code == 200'],
    ['net.lookup_ip_addr', 'count(net.lookup_ip_addr(input.request.object.data.host)) > 0'],
  ])('%s', async (builtin, call) => {
    const dir = mkdtempSync(join(tmpdir(), 'bouncer-refused-'));
    try {
      mkdirSync(join(dir, 'policies', 'network'), { recursive: true });
      writeFileSync(join(dir, 'policies', 'network', 'policy.rego'), policyCalling(call));
      await expect(buildBundle({ policiesDir: join(dir, 'policies'), output: join(dir, 'b.tar.gz'), opa: inject('opa') })).rejects.toMatchObject({
        code: 'OPA_FAILED',
        message: expect.stringMatching(new RegExp(`undefined function ${builtin.replace('.', '\\.')}`)),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
