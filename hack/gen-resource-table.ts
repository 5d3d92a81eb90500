// Regenerates src/authoring/builtin-resources.ts, the table of built-in kinds → resources,
// subresources and operations, from the discovery of the pinned kube-apiserver.
//   npx tsx hack/gen-resource-table.ts                      starts a throwaway control plane (the pinned build)
//   npx tsx hack/gen-resource-table.ts --kubeconfig FILE    reads an API server that is already running
//   ... --out FILE                                          writes elsewhere (the e2e test compares)
// Resources served by CRDs or aggregated API servers are left out, so a cluster that has
// some (the e2e control plane) gives the same table as a fresh one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { discoverResources, renderTableModule } from '../src/authoring/discovery.js';
import { discoveryGetter } from '../src/cli/cluster-context.js';
import { loadKubeConfig } from '../src/cluster/kubeconfig.js';
import { startControlPlane, stopControlPlane } from './lib/control-plane.js';

const REGENERATE = 'npx tsx hack/gen-resource-table.ts (starts the pinned kube-apiserver; see hack/lib/control-plane.ts)';

const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, out: { type: 'string' } } });
const out = values.out ?? 'src/authoring/builtin-resources.ts';

async function generate(kubeconfig: string): Promise<string> {
  const get = discoveryGetter(loadKubeConfig(kubeconfig));
  const version = (await get('/version')) as { gitVersion: string };
  const table = await discoverResources(get, `Kubernetes ${version.gitVersion}`, { builtinOnly: true });
  return renderTableModule(table, REGENERATE);
}

let text: string;
if (values.kubeconfig) {
  text = await generate(values.kubeconfig);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-gen-resources-'));
  try {
    const state = await startControlPlane({ dir });
    text = await generate(state.kubeconfig);
  } finally {
    await stopControlPlane(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
writeFileSync(out, text);
process.stdout.write(`wrote ${out}\n`);
