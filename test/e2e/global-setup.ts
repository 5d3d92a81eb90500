// The e2e suite's target. By default: one real etcd + kube-apiserver started for the whole
// run and stopped afterwards (envtest-style). With BOUNCER_E2E_KUBECONFIG set (hack/kind-e2e.sh):
// an existing cluster where bouncer is deployed from manifests/, with the starter library
// pushed as bundle "baseline" and the test policies as "test-basic"; suites that need to run
// bouncer as a local process or to restart the API server skip themselves there.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startControlPlane, stopControlPlane, type ControlPlaneState } from '../../hack/lib/control-plane.js';
import { ensureTools, requireTool } from '../../hack/lib/tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneState;
    /** True when the suite runs against an existing cluster (BOUNCER_E2E_KUBECONFIG). */
    externalCluster: boolean;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.BOUNCER_E2E_KUBECONFIG;
  project.provide('externalCluster', Boolean(external));
  if (external) {
    const kubectl = process.env.BOUNCER_E2E_KUBECTL ?? requireTool(ensureTools('control-plane'), 'KUBECTL');
    const state = {
      dir: '',
      kubeconfig: external,
      server: '',
      caFile: '',
      caCertPem: '',
      caKeyPem: '',
      adminCertFile: '',
      adminKeyFile: '',
      auditLog: process.env.BOUNCER_E2E_AUDIT_LOG ?? '',
      kubectl,
      pids: { etcd: 0, apiserver: 0 },
      ports: { etcdClient: 0, etcdPeer: 0, apiserver: 0 },
      apiserverCommand: [],
      etcdCommand: [],
    } satisfies ControlPlaneState;
    project.provide('controlPlane', state);
    return async () => undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-e2e-'));
  const state = await startControlPlane({ dir });
  project.provide('controlPlane', state);
  return async () => {
    await stopControlPlane(dir, process.env.BOUNCER_KEEP_CONTROL_PLANE === '1');
  };
}
