// Flags shared by the commands that speak to the cluster of the current kubeconfig.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createBundleStore, type BundleStore } from '../cluster/bundle-store.js';
import { loadKubeConfig } from '../cluster/kubeconfig.js';
import { BouncerError } from '../errors/errors.js';
import type { CliContext } from './context.js';

export const DEFAULT_NAMESPACE = 'bouncer-system';

export const CLUSTER_OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export function clusterArgs<O extends NonNullable<ParseArgsConfig['options']>>(ctx: CliContext, options: O, usage: string) {
  try {
    return parseArgs({ args: [...ctx.args], options: { ...CLUSTER_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new BouncerError('CONFIG_INVALID', `${(cause as Error).message}\n${usage}`);
  }
}

export function storeFor(ctx: CliContext, values: { namespace?: unknown; kubeconfig?: unknown }): BundleStore {
  const namespace = typeof values.namespace === 'string' ? values.namespace : (ctx.env.BOUNCER_NAMESPACE ?? DEFAULT_NAMESPACE);
  let kc;
  try {
    const file = typeof values.kubeconfig === 'string' ? values.kubeconfig : ctx.env.KUBECONFIG?.split(':')[0];
    kc = loadKubeConfig(file || undefined);
  } catch (cause) {
    throw new BouncerError('CLUSTER_FAILED', `no usable kubeconfig: ${(cause as Error).message}`, { cause });
  }
  if (!kc.getCurrentCluster()) throw new BouncerError('CLUSTER_FAILED', 'no cluster in the kubeconfig (set KUBECONFIG or --kubeconfig)');
  return createBundleStore(kc, namespace);
}
