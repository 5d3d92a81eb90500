// `bouncer build` (buildBundle) refuses a scope whose kinds no request would match, with the
// fix in the message, and records the resolved resources in the bundle it builds; the rules
// rendered from that bundle name them. The CLI's exit code and message for the same errors
// are checked end to end in test/e2e/rule-rendering.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadBundle } from '../bundles/bundle.js';
import { thrown } from '../../test/support/thrown.js';
import { buildBundle } from './build.js';
import { rulesFor } from './webhook-config.js';

const dir = mkdtempSync(join(tmpdir(), 'bouncer-build-scope-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A policies directory with one policy whose scope.kinds line is `kinds`. */
function policies(name: string, kinds: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'p'), { recursive: true });
  writeFileSync(
    join(root, 'p', 'policy.rego'),
    ['# METADATA', '# custom:', '#   scope:', `#     kinds: ${kinds}`, 'package policies.p', '', 'deny contains "no" if { input.request.object.x }', ''].join('\n'),
  );
  return root;
}

const build = (policiesDir: string, output = join(dir, 'out.tar.gz')) => buildBundle({ policiesDir, output, opa: inject('opa'), revision: 'r1' });

describe('bouncer build: malformed kinds are build errors', () => {
  it.each([
    { kinds: '[pod]', says: 'did you mean Pod?' },
    { kinds: '[Pods]', says: 'did you mean Pod?' },
    { kinds: '[Deployment]', says: 'did you mean apps/Deployment?' },
    { kinds: '[Endpoint]', says: 'did you mean Endpoints?' },
  ])('$kinds: $says', async ({ kinds, says }) => {
    const err = await build(policies(`bad-${kinds.replace(/\W/g, '')}`, kinds)).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err?.code).toBe('POLICY_SOURCE_INVALID');
    expect(err?.message).toContain('p/: invalid METADATA');
    expect(err?.message).toContain(says);
  });

  it('a good scope is built with each kind resolved to its resource', async () => {
    const src = policies('good', '[Endpoints, networking.k8s.io/NetworkPolicy, {kind: example.com/Cactus, resource: cacti}]');
    const output = join(dir, 'good.tar.gz');
    await build(src, output);
    const bundle = await loadBundle('good', readFileSync(output));
    expect(bundle.policies[0]?.meta.scope.kinds).toEqual([
      { group: '', kind: 'Endpoints', resource: 'endpoints' },
      { group: 'networking.k8s.io', kind: 'NetworkPolicy', resource: 'networkpolicies' },
      { group: 'example.com', kind: 'Cactus', resource: 'cacti' },
    ]);
    expect(rulesFor(bundle.policies.map((p) => p.meta), 'validate').flatMap((r) => r.resources)).toEqual(['endpoints', 'cacti', 'networkpolicies']);
  });

  it('a custom kind without its resource builds, but no rule can be rendered for it without a cluster', async () => {
    const output = join(dir, 'custom.tar.gz');
    await build(policies('custom', '[example.com/Cactus]'), output);
    const bundle = await loadBundle('custom', readFileSync(output));
    expect(bundle.policies[0]?.meta.scope.kinds).toEqual([{ group: 'example.com', kind: 'Cactus' }]);
    expect(thrown(() => rulesFor(bundle.policies.map((p) => p.meta), 'validate')).message).toContain('or render with --cluster');
  });
});
