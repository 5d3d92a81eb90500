// The background audit honours policy exceptions as admission does (review/exemptions.ts
// through the shared reviewer, at the audit's clock): an exempted object is a skip finding
// naming the exception, counted in the summary and reported as an OpenReports skip result;
// once the exception expires the next run evaluates the object again (its remembered result
// depended on the exception) and reports the violation.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadBundle } from '../bundles/bundle.js';
import { parsePolicyException, serializePolicyException } from '../bundles/policy-exception.js';
import { createPolicySet, type PolicySet } from '../bundles/policy-set.js';
import { editBundle } from '../../test/support/bundle-files.js';
import { createAuditor } from './auditor.js';
import type { ApiResource, ObjectPager } from './cluster-access.js';
import { buildReports } from './report-build.js';

const CONFIGMAPS: ApiResource = { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true };
const EXPIRES = '2027-01-31T00:00:00Z';
const T = Date.parse(EXPIRES);

const cm = (name: string) => ({ metadata: { name, namespace: 'team-a', uid: `uid-${name}`, resourceVersion: '1', labels: { 'audit-deny': 'true' } }, data: {} });
const items = [cm('cm'), cm('other')];
const pager: ObjectPager = {
  pages: () => ({
    [Symbol.asyncIterator]: async function* () {
      yield { items };
    },
  }),
};
const discovery = { resources: async () => ({ resources: [CONFIGMAPS], failures: [] }) };
const logger = { info: () => {}, warn: () => {}, error: () => {} };

describe('the audit with a policy exception', () => {
  let set: PolicySet;
  beforeAll(async () => {
    const e = parsePolicyException(
      { apiVersion: 'bouncer.dev/v1alpha1', kind: 'PolicyException', metadata: { name: 'legacy-cm' }, spec: { policies: ['audit-deny'], match: { namespaces: ['team-a'], names: ['cm'] }, reason: 'migration', ticket: 'OPS-1', expiresAt: EXPIRES } },
      { where: 'test', code: 'EXCEPTION_INVALID', known: new Set(['audit-deny']) },
    );
    const bytes = await editBundle(inject('bundles').audit as string, (files) => {
      const manifest = JSON.parse(new TextDecoder().decode(files.get('/.manifest')));
      manifest.metadata.bouncer.exceptions = [serializePolicyException(e)];
      files.set('/.manifest', new TextEncoder().encode(JSON.stringify(manifest)));
    });
    set = createPolicySet([await loadBundle('audit', bytes)]);
  });

  it('reports skip before expiry and the violation after, as admission decides', async () => {
    let clock = T - 60_000;
    const auditor = createAuditor({ policies: () => set, discovery, pager, logger, now: () => new Date(clock) });
    const before = await auditor.run();
    const results = (run: typeof before) => run.findings.filter((f) => f.policy === 'audit-deny').map((f) => `${f.resource.name}:${f.result}`);
    expect(results(before)).toEqual(['cm:skip', 'other:fail']);
    const skip = before.findings.find((f) => f.result === 'skip');
    expect(skip).toMatchObject({ exemption: { exception: 'legacy-cm', ticket: 'OPS-1', expiresAt: EXPIRES } });
    expect(skip?.message).toMatch(/^exempted by policy exception legacy-cm \(OPS-1\) until 2027-01-31T00:00:00Z; would have been deny: ConfigMap "cm" carries audit-deny/);
    expect(before.summary?.find((s) => s.policy === 'audit-deny')).toMatchObject({ fail: 1, skip: 1, error: 0 });
    const report = buildReports(before, { format: 'openreports', maxResultsPerReport: 100 }).find((r) => r.metadata.namespace === 'team-a');
    const result = report?.results.find((r) => r.policy === 'audit-deny' && r.result === 'skip');
    expect(result?.properties).toMatchObject({ reason: 'exempted', exception: 'legacy-cm', 'expires-at': EXPIRES, ticket: 'OPS-1' });
    expect(report?.summary.skip).toBeGreaterThanOrEqual(1);

    // Unchanged objects are recalled between runs, but not across the exception's expiry.
    const same = await auditor.run();
    expect(results(same)).toEqual(['cm:skip', 'other:fail']);
    expect(same.objectsEvaluated).toBe(0);
    clock = T;
    const after = await auditor.run();
    expect(results(after)).toEqual(['cm:fail', 'other:fail']);
    expect(after.objectsEvaluated).toBe(2);
  });
});
