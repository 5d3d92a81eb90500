// Runs the pinned kubectl against the test control plane, as a user would.
import { spawnSync } from 'node:child_process';
import type { ControlPlaneState } from '../../hack/lib/control-plane.js';

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function kubectl(state: ControlPlaneState, args: readonly string[], input?: string): KubectlResult {
  const result = spawnSync(state.kubectl, [...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: state.kubeconfig },
    timeout: 30_000,
    // The API server's /metrics outgrows spawnSync's 1 MiB default once a run has installed
    // a few CRDs; past it the output is cut short (ENOBUFS), silently for a caller reading stdout.
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`kubectl ${args.join(' ')}: ${result.error.message}`);
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
