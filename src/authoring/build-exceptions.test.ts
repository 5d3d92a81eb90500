// `bouncer build` with policies/exceptions/: the exceptions are checked (known policy, expiry
// in the future and within --exception-max-days, a restricting match) and carried in the
// manifest, from which the loader reads them back; the loader of `bouncer serve` refuses a
// bundle whose exception runs past its own maximum.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadBundle } from '../bundles/bundle.js';
import { createBundleLoader } from '../bundles/bundle-loader.js';
import { buildBundle } from './build.js';
import { readExceptions } from './exceptions-source.js';

const dir = mkdtempSync(join(tmpdir(), 'bouncer-build-exceptions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** A policies directory with policy p and exceptions/x.yaml holding `yaml`. */
function policies(name: string, yaml: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'p'), { recursive: true });
  mkdirSync(join(root, 'exceptions'), { recursive: true });
  writeFileSync(join(root, 'p', 'policy.rego'), ['# METADATA', '# custom:', '#   scope:', '#     kinds: [ConfigMap]', 'package policies.p', '', 'deny contains "no" if { input.request.object.x }', ''].join('\n'));
  writeFileSync(join(root, 'exceptions', 'x.yaml'), yaml);
  return root;
}

function exceptionYaml(name: string, fields: { policies?: string; match?: string; expiresAt?: string }): string {
  return [
    'apiVersion: bouncer.dev/v1alpha1',
    'kind: PolicyException',
    `metadata: {name: ${name}}`,
    'spec:',
    `  policies: ${fields.policies ?? '[p]'}`,
    `  match: ${fields.match ?? '{namespaces: [legacy]}'}`,
    '  reason: the legacy batch jobs move off this in January',
    '  ticket: OPS-7',
    `  expiresAt: ${fields.expiresAt ?? iso(Date.now() + 10 * DAY)}`,
    '',
  ].join('\n');
}

const build = (policiesDir: string, extra: { exceptionMaxDays?: number } = {}) => buildBundle({ policiesDir, output: join(policiesDir, 'out.tar.gz'), opa: inject('opa'), revision: 'r1', ...extra });

describe('bouncer build with policy exceptions', () => {
  it('carries the exceptions in the manifest, read back by the loader, with a note for a subjects match', async () => {
    const src = policies('good', `${exceptionYaml('legacy', {})}---\n${exceptionYaml('ci', { match: '{subjects: {serviceAccounts: [ci/deployer]}}' })}`);
    const result = await build(src);
    expect(result.exceptions).toEqual(['ci', 'legacy']);
    expect(result.notes).toContain('exception ci matches requesters (subjects): the background audit has none, so it reports what the exception admits');
    const bundle = await loadBundle('good', readFileSync(result.output));
    expect(bundle.manifest.exceptions.map((e) => [e.name, e.policies, e.ticket])).toEqual([
      ['ci', ['p'], 'OPS-7'],
      ['legacy', ['p'], 'OPS-7'],
    ]);
    expect(bundle.manifest.exceptions[1]?.match).toEqual({ namespaces: ['legacy'] });
    // The serve loader applies its own maximum to the same bytes.
    await expect(createBundleLoader({ exceptionMaxDays: 30 })('good', readFileSync(result.output))).resolves.toMatchObject({ name: 'good' });
    await expect(createBundleLoader({ exceptionMaxDays: 5 })('good', readFileSync(result.output))).rejects.toMatchObject({ code: 'EXCEPTION_INVALID', message: expect.stringMatching(/is more than 5 days away/) });
  });

  it.each([
    ['an unknown policy', { policies: '[q]' }, /exception bad: spec\.policies: "q" is not a policy or constraint of this bundle/],
    ['an expired exception', { expiresAt: iso(Date.now() - DAY) }, /exception bad: expiresAt .* has passed; remove the exception/],
    ['an expiry beyond the maximum', { expiresAt: iso(Date.now() + 120 * DAY) }, /exception bad: expiresAt .* is more than 90 days away/],
    ['no expiry', { expiresAt: '""' }, /exception bad: spec\.expiresAt: "" is not an RFC 3339 time/],
    ['an over-broad match', { match: '{kinds: [ConfigMap]}' }, /exception bad: spec\.match: is over-broad/],
    ['a malformed selector', { match: '{namespaces: [a], objectSelector: {matchExpressions: [{key: a, operator: In}]}}' }, /objectSelector\.matchExpressions\[0\]\.values: must be given/],
  ])('refuses %s, naming the file', async (name, fields, message) => {
    const src = policies(`bad-${name.replace(/\W/g, '')}`, exceptionYaml('bad', fields));
    const err = await build(src).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err?.code).toBe('EXCEPTION_INVALID');
    expect(err?.message).toMatch(message);
    expect(err?.message).toContain(join('exceptions', 'x.yaml'));
  });

  it('honours a configured maximum', async () => {
    const src = policies('max', exceptionYaml('soon', { expiresAt: iso(Date.now() + 10 * DAY) }));
    await expect(build(src, { exceptionMaxDays: 7 })).rejects.toMatchObject({ code: 'EXCEPTION_INVALID', message: expect.stringMatching(/more than 7 days away/) });
  });

  it('names Gatekeeper constraints as decisions do, and refuses a name defined twice', () => {
    const src = policies('gk', exceptionYaml('gk', { policies: '[K8sRequiredLabels/must-have-owner]' }));
    expect(readExceptions(src, new Set(['K8sRequiredLabels/must-have-owner'])).exceptions[0]?.policies).toEqual(['K8sRequiredLabels/must-have-owner']);
    const twice = policies('twice', `${exceptionYaml('a', {})}---\n${exceptionYaml('a', {})}`);
    expect(() => readExceptions(twice, new Set(['p']))).toThrow(/exception a is also defined in/);
  });
});
