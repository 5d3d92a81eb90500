// bouncer build with Gatekeeper objects: a template that reads data.inventory but declares no
// kinds (no requires-sync-data annotation) builds, with a warning that bouncer replicates
// nothing for it; templates that do not read it build without one.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildBundle } from '../../src/authoring/build.js';

const work = mkdtempSync(join(tmpdir(), 'bouncer-gk-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('bouncer build of Gatekeeper templates', () => {
  it('warns about a template that reads data.inventory without declaring what, naming its file', async () => {
    const dir = join(work, 'referential');
    mkdirSync(join(dir, 'gatekeeper'), { recursive: true });
    copyFileSync('test/fixtures/gatekeeper-suites/templates/unique-name.yaml', join(dir, 'gatekeeper', 'unique-name.yaml'));
    const result = await buildBundle({ policiesDir: dir, output: join(work, 'referential.tar.gz'), opa: inject('opa'), revision: 'r' });
    expect(result.warnings).toEqual([expect.stringMatching(/unique-name\.yaml \(document 1, line 2\): ConstraintTemplate \S+ reads data\.inventory but declares no kinds \(the metadata\.gatekeeper\.sh\/requires-sync-data annotation\)/)]);
    expect(result.inventory).toEqual({ kinds: [] });
  });

  it('builds templates that do not read it without a warning', async () => {
    const result = await buildBundle({ policiesDir: 'test/fixtures/policy-sets/gatekeeper', output: join(work, 'plain.tar.gz'), opa: inject('opa'), revision: 'r' });
    expect(result.warnings).toEqual([]);
    expect(result.gatekeeper?.constraints.map((c) => c.id)).toEqual(['ConfigMapLabels/everyone-should-have-app', 'ConfigMapLabels/team-a-owner', 'ConfigMapLabels/team-b-cost-center']);
  });
});
