// src/authoring/builtin-resources.ts is generated from the discovery of the pinned
// kube-apiserver by hack/gen-resource-table.ts: regenerated from the live control plane of
// this run, it must come out the same, so the table is never typed or stale.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';

const TABLE = 'src/authoring/builtin-resources.ts';

describe.skipIf(inject('externalCluster'))(TABLE, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-resource-table-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is what hack/gen-resource-table.ts generates from the pinned kube-apiserver', () => {
    const out = join(dir, 'builtin-resources.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'hack/gen-resource-table.ts', '--kubeconfig', inject('controlPlane').kubeconfig, '--out', out], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(TABLE, 'utf8'), `${TABLE} is out of date; regenerate it with: npx tsx hack/gen-resource-table.ts`).toBe(readFileSync(out, 'utf8'));
  });
});
