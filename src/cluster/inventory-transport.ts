// The API calls of the inventory replicator, made over HTTPS with a kubeconfig's credentials:
// discovery of a group version, one page of a list, a watch. Raw requests rather than
// client-node's typed clients: any kind (CRDs included) is listed the same way, the status
// body of a failure (its message names what RBAC refused) reaches the caller, and a watch line
// that does not parse is reported instead of silently dropped (client-node's Watch ignores it).
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseJson } from '../json/parse-json.js';

/** One resource of a discovery document (APIResourceList.resources[]). */
export interface ApiResource {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs?: readonly string[];
}

export interface ListPage {
  readonly items: readonly unknown[];
  readonly resourceVersion: string | undefined;
  readonly continue: string | undefined;
}

export interface WatchHandlers {
  /** The API server accepted the watch (200). */
  onOpen(): void;
  onEvent(type: string, object: unknown): void;
  /** A line that is not a watch event ({type, object}). */
  onInvalid(line: string): void;
  /** The watch ended: undefined when the server closed it, else why. Called once. */
  onDone(err?: unknown): void;
}

export interface InventoryTransport {
  /** The resources a group version serves ("v1" or "group/version"); undefined when it is not served (404). */
  resources(groupVersion: string): Promise<readonly ApiResource[] | undefined>;
  list(path: string, query: { readonly limit: number; readonly continue?: string }, signal: AbortSignal): Promise<ListPage>;
  /** Starts a watch; returns a function that aborts it (onDone then gets an AbortError). */
  watch(path: string, query: { readonly resourceVersion: string; readonly timeoutSeconds: number }, handlers: WatchHandlers): () => void;
}

/** A failed API call: the HTTP status and, when the body is a Status, its reason and message. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** Bound on one watch line (one object): etcd refuses objects over 1.5 MiB; a line past this is a broken stream. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

export function kubeInventoryTransport(kc: KubeConfig): InventoryTransport {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const base = new URL(cluster.server);

  const open = async (path: string, query: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> => {
    const url = new URL(path, base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const options: RequestOptions & Record<string, unknown> = { method: 'GET', headers: { Accept: 'application/json' } };
    await kc.applyToHTTPSOptions(options);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, { ...options, ...(signal ? { signal } : {}) }, resolve);
      // TCP keepalive, as client-node's Watch sets: a half-open connection fails instead of hanging.
      req.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
      req.on('error', reject);
      req.end();
    });
  };

  const readBody = async (res: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  const failure = async (res: IncomingMessage): Promise<KubeApiError> => {
    const text = (await readBody(res).catch(() => Buffer.alloc(0))).toString('utf8').slice(0, 4096);
    try {
      const status = parseJson(text) as { reason?: string; message?: string };
      return new KubeApiError(res.statusCode ?? 0, status.reason, status.message ?? `HTTP ${res.statusCode}`);
    } catch {
      return new KubeApiError(res.statusCode ?? 0, undefined, text || `HTTP ${res.statusCode}`);
    }
  };

  const getJson = async (path: string, query: Record<string, string>, signal?: AbortSignal): Promise<unknown> => {
    const res = await open(path, query, signal);
    if (res.statusCode !== 200) throw await failure(res);
    return parseJson((await readBody(res)).toString('utf8')) as unknown;
  };

  return {
    async resources(gv) {
      try {
        const doc = (await getJson(gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`, {})) as { resources?: ApiResource[] };
        return doc.resources ?? [];
      } catch (err) {
        if (err instanceof KubeApiError && err.statusCode === 404) return undefined;
        throw err;
      }
    },

    async list(path, query, signal) {
      const q: Record<string, string> = { limit: String(query.limit) };
      if (query.continue) q.continue = query.continue;
      const doc = (await getJson(path, q, signal)) as { items?: unknown[]; metadata?: { resourceVersion?: string; continue?: string } };
      return { items: doc.items ?? [], resourceVersion: doc.metadata?.resourceVersion, continue: doc.metadata?.continue || undefined };
    },

    watch(path, query, handlers) {
      const controller = new AbortController();
      let ended = false;
      const done = (err?: unknown) => {
        if (ended) return;
        ended = true;
        handlers.onDone(err);
      };
      const q = { watch: 'true', allowWatchBookmarks: 'true', resourceVersion: query.resourceVersion, timeoutSeconds: String(query.timeoutSeconds) };
      open(path, q, controller.signal).then(
        async (res) => {
          if (res.statusCode !== 200) return done(await failure(res));
          handlers.onOpen();
          let pending = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            pending += chunk;
            let nl: number;
            while ((nl = pending.indexOf('\n')) >= 0) {
              const line = pending.slice(0, nl);
              pending = pending.slice(nl + 1);
              if (line.trim() !== '') dispatch(line, handlers);
            }
            if (pending.length > MAX_LINE_BYTES) {
              controller.abort();
              done(new KubeApiError(0, undefined, `a watch line is longer than ${MAX_LINE_BYTES} bytes`));
            }
          });
          res.on('end', () => {
            if (pending.trim() !== '') dispatch(pending, handlers);
            done();
          });
          res.on('error', done);
          res.on('close', () => done(controller.signal.aborted ? abortError() : undefined));
        },
        (err: unknown) => done(err),
      );
      return () => {
        controller.abort();
        done(abortError());
      };
    },
  };
}

function dispatch(line: string, handlers: WatchHandlers): void {
  let event: unknown;
  try {
    event = parseJson(line);
  } catch {
    handlers.onInvalid(line);
    return;
  }
  const { type, object } = (event ?? {}) as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || typeof object !== 'object' || object === null) handlers.onInvalid(line);
  else handlers.onEvent(type, object);
}

function abortError(): Error {
  const err = new Error('the watch was aborted');
  err.name = 'AbortError';
  return err;
}
