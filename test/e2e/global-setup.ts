// Starts one real etcd + kube-apiserver for the whole e2e run and stops it afterwards.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startControlPlane, stopControlPlane, type ControlPlaneState } from '../../hack/lib/control-plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneState;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-e2e-'));
  const state = await startControlPlane({ dir });
  project.provide('controlPlane', state);
  return async () => {
    await stopControlPlane(dir, process.env.BOUNCER_KEEP_CONTROL_PLANE === '1');
  };
}
