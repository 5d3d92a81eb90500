// manifests/base/crds/ is what hack/gen-report-crds.ts writes (the schemas are bouncer's own,
// written from the upstream Go types; regenerate rather than edit), and it lists only the
// default format's CRDs in its kustomization.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CRD_DIR, reportCrds } from '../../hack/gen-report-crds.js';

describe('manifests/base/crds', () => {
  it('is in step with hack/gen-report-crds.ts (npx tsx hack/gen-report-crds.ts)', () => {
    const generated = reportCrds();
    expect(readdirSync(CRD_DIR).filter((f) => f !== 'kustomization.yaml').sort()).toEqual([...generated.keys()].sort());
    for (const [file, yaml] of generated) expect(readFileSync(join(CRD_DIR, file), 'utf8'), file).toBe(yaml);
  });

  it('the kustomization installs the openreports.io CRDs only (wgpolicyk8s.io is often Kyverno\'s)', () => {
    const k = parse(readFileSync(join(CRD_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(k.resources.sort()).toEqual(['openreports.io_clusterreports.yaml', 'openreports.io_reports.yaml']);
  });
});
