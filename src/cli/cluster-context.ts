// Flags shared by the commands that speak to the cluster of the current kubeconfig.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createBundleStore, type BundleStore } from '../cluster/bundle-store.js';
import { loadKubeConfig } from '../cluster/kubeconfig.js';
import { BouncerError } from '../errors/errors.js';
import type { CliContext } from './context.js';
import { parseJson } from '../json/parse-json.js';

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
  const kc = kubeConfigFor(ctx, values);
  return createBundleStore(kc, namespace);
}

type KubeConfigLike = ReturnType<typeof loadKubeConfig>;

/**
 * The kubeconfig of --kubeconfig, else $KUBECONFIG's first file, else client-node's default
 * order; with --context, that context instead of the file's current one.
 */
export function kubeConfigFor(ctx: CliContext, values: { kubeconfig?: unknown; context?: unknown }): KubeConfigLike {
  let kc;
  try {
    const file = typeof values.kubeconfig === 'string' ? values.kubeconfig : ctx.env.KUBECONFIG?.split(':')[0];
    kc = loadKubeConfig(file || undefined);
  } catch (cause) {
    throw new BouncerError('CLUSTER_FAILED', `no usable kubeconfig: ${(cause as Error).message}`, { cause });
  }
  if (typeof values.context === 'string') {
    if (!kc.getContextObject(values.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new BouncerError('CONFIG_INVALID', `the kubeconfig has no context ${JSON.stringify(values.context)} (it has: ${known.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(values.context);
  }
  if (!kc.getCurrentCluster()) throw new BouncerError('CLUSTER_FAILED', 'no cluster in the kubeconfig (set KUBECONFIG or --kubeconfig)');
  return kc;
}

/**
 * GETs paths of the kubeconfig's cluster as JSON with its credentials (discovery documents);
 * a non-2xx answer or an unreachable server is CLUSTER_FAILED naming the path.
 */
export function discoveryGetter(kc: KubeConfigLike, timeoutMs = 15_000): (path: string) => Promise<unknown> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new BouncerError('CLUSTER_FAILED', 'no cluster in the kubeconfig (set KUBECONFIG or --kubeconfig)');
  return async (path) => {
    const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, timeout: timeoutMs };
    await kc.applyToHTTPSOptions(options);
    const url = new URL(path, server);
    return new Promise((resolve, reject) => {
      const failed = (message: string, cause?: unknown) => reject(new BouncerError('CLUSTER_FAILED', `GET ${url.pathname}: ${message}`, cause === undefined ? {} : { cause }));
      const req = (url.protocol === 'http:' ? httpRequest : httpsRequest)(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) return failed(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
          try {
            resolve(parseJson(text));
          } catch (cause) {
            failed('the answer is not JSON', cause);
          }
        });
        res.on('error', (cause) => failed(cause.message, cause));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (cause) => failed(cause.message, cause));
      req.end();
    });
  };
}
