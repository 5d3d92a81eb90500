// SyncSets and the Config in a policy directory: read from gatekeeper/*.yaml, checked as strictly
// as templates, one Config at most (a singleton, as gator sync test says).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { thrown } from '../../test/support/thrown.js';
import { parseSyncConfiguration } from './parse-sync-config.js';
import { readGatekeeperPolicies } from './read-policies.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-sync-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, 'gatekeeper', path, '..'), { recursive: true });
    writeFileSync(join(dir, 'gatekeeper', path), text);
  }
  return dir;
}

const syncSet = { apiVersion: 'syncset.gatekeeper.sh/v1alpha1', kind: 'SyncSet', metadata: { name: 's' }, spec: { gvks: [{ group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' }, { version: 'v1', kind: 'Service' }] } };
const config = { apiVersion: 'config.gatekeeper.sh/v1alpha1', kind: 'Config', metadata: { name: 'config', namespace: 'gatekeeper-system' }, spec: { match: [], sync: { syncOnly: [{ group: '', version: 'v1', kind: 'Namespace' }] } } };

describe('parseSyncConfiguration', () => {
  it('reads a SyncSet (no group is the core group) and a Config', () => {
    expect(parseSyncConfiguration(syncSet, 'f', 'f')).toEqual({
      kind: 'SyncSet',
      name: 's',
      file: 'f',
      gvks: [
        { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' },
        { group: '', version: 'v1', kind: 'Service' },
      ],
    });
    expect(parseSyncConfiguration(config, 'f', 'f').gvks).toEqual([{ group: '', version: 'v1', kind: 'Namespace' }]);
  });

  it('reads a Config without spec.sync as syncing nothing', () => {
    expect(parseSyncConfiguration({ ...config, spec: {} }, 'f', 'f').gvks).toEqual([]);
  });

  it.each([
    ['another version', { ...syncSet, apiVersion: 'syncset.gatekeeper.sh/v1' }, /a sync configuration is a syncset\.gatekeeper\.sh\/v1alpha1 SyncSet/],
    ['a wrong kind', { ...config, kind: 'SyncSet' }, /a sync configuration is/],
    ['no name', { ...syncSet, metadata: {} }, /metadata\.name is missing/],
    ['gvks not a list', { ...syncSet, spec: { gvks: { kind: 'Pod' } } }, /spec\.gvks must be a list/],
    ['an entry without version', { ...syncSet, spec: { gvks: [{ kind: 'Pod' }] } }, /spec\.gvks\[0\]: version is missing/],
    ['an entry without kind', { ...syncSet, spec: { gvks: [{ version: 'v1' }] } }, /spec\.gvks\[0\]: kind is missing/],
    ['an unknown entry field', { ...syncSet, spec: { gvks: [{ version: 'v1', kind: 'Pod', namespace: 'x' }] } }, /unknown field "namespace"/],
    ['syncOnly not a list', { ...config, spec: { sync: { syncOnly: 'Pod' } } }, /spec\.sync\.syncOnly must be a list/],
  ])('refuses %s', (_, obj, message) => {
    const err = thrown(() => parseSyncConfiguration(obj, 'f', 'f (document 1, line 1)'));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toMatch(/^f \(document 1, line 1\)/);
    expect(err.message).toMatch(message);
  });
});

describe('readGatekeeperPolicies with a sync configuration', () => {
  const yaml = (o: unknown) => JSON.stringify(o);

  it('collects the SyncSets and the Config of gatekeeper/*.yaml', () => {
    const dir = policyDir({ 'sync.yaml': `${yaml(syncSet)}\n---\n${yaml(config)}\n` });
    const read = readGatekeeperPolicies(dir);
    expect(read.sync?.map((s) => [s.kind, s.name, s.position?.document])).toEqual([
      ['SyncSet', 's', 1],
      ['Config', 'config', 2],
    ]);
  });

  it('has no sync member without one', () => {
    expect(readGatekeeperPolicies(policyDir({}))).toEqual({ templates: [], constraints: [] });
  });

  it('refuses a second Config', () => {
    const dir = policyDir({ 'a.yaml': yaml(config), 'b.yaml': yaml({ ...config, metadata: { name: 'other' } }) });
    expect(thrown(() => readGatekeeperPolicies(dir)).message).toMatch(/b\.yaml \(document 1, line 1\): a second Config \(.*a\.yaml .* is one\): Config is a singleton resource/);
  });

  it('refuses a SyncSet inside a template folder', () => {
    const dir = policyDir({ 'x/template.yaml': yaml(syncSet) });
    expect(thrown(() => readGatekeeperPolicies(dir)).message).toMatch(/neither a ConstraintTemplate .* nor a Constraint/);
  });
});
