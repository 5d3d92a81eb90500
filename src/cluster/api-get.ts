// GET requests to the kubeconfig's API server with its credentials, answered as parsed JSON:
// the transport of discovery and list pages (resource-discovery.ts, object-pages.ts), which
// need paths client-node's typed clients do not cover generically. A non-2xx answer throws
// CLUSTER_FAILED with the HTTP status in details.httpStatus; a connection failure or timeout
// throws it without one.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { BouncerError } from '../errors/errors.js';
import { parseJson } from '../json/parse-json.js';

export type ApiGet = (path: string, signal?: AbortSignal) => Promise<unknown>;

export interface ApiGetOptions {
  readonly timeoutMs?: number;
  /** Called once per request sent (for counting). */
  readonly onRequest?: (path: string) => void;
}

export function apiGetter(kc: KubeConfig, options: ApiGetOptions = {}): ApiGet {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new BouncerError('CLUSTER_FAILED', 'no cluster in the kubeconfig (set KUBECONFIG or --kubeconfig)');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const base = new URL(server);
  const agent = base.protocol === 'http:' ? new HttpAgent({ keepAlive: true, maxSockets: 4 }) : new HttpsAgent({ keepAlive: true, maxSockets: 4 });
  return async (path, signal) => {
    const request: RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, timeout: timeoutMs };
    await kc.applyToHTTPSOptions(request);
    request.agent = agent;
    const url = new URL(base.pathname.replace(/\/$/, '') + path, base);
    options.onRequest?.(path);
    return new Promise((resolve, reject) => {
      const failed = (message: string, httpStatus?: number, cause?: unknown) =>
        reject(new BouncerError('CLUSTER_FAILED', `GET ${url.pathname}: ${message}`, { details: { path: url.pathname, ...(httpStatus ? { httpStatus } : {}) }, ...(cause === undefined ? {} : { cause }) }));
      const req = (url.protocol === 'http:' ? httpRequest : httpsRequest)(url, { ...request, ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) return failed(`HTTP ${status}: ${statusMessage(text)}`, status);
          try {
            resolve(parseJson(text));
          } catch (cause) {
            failed('the answer is not JSON', undefined, cause);
          }
        });
        res.on('error', (cause) => failed(cause.message, undefined, cause));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (cause) => failed(cause.message, undefined, cause));
      req.end();
    });
  };
}

/** The message of a metav1.Status body, else the body's start. */
function statusMessage(text: string): string {
  try {
    const body = parseJson(text) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not a Status
  }
  return text.slice(0, 200);
}
