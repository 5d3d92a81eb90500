// A resource's objects in pages, for the audit (structurally audit's ObjectPager,
// src/audit/cluster-access.ts): GET <resource path>?limit=N&continue=T across all namespaces,
// one request per page, the next one only when the previous page has been consumed, so at most
// one page is held. Failures carry the HTTP status (details.httpStatus): the audit decides what
// a 410 (expired continue token), 403 or 404 means for the run.
import type { KubeConfig } from '@kubernetes/client-node';
import { apiGetter, type ApiGet } from './api-get.js';

export interface PagedResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface ResourcePage {
  readonly items: readonly unknown[];
  readonly continue?: string;
  readonly resourceVersion?: string;
}

export interface ObjectPages {
  pages(resource: PagedResource, pageSize: number, options?: { readonly continue?: string; readonly signal?: AbortSignal }): AsyncIterable<ResourcePage>;
  /** List requests sent so far. */
  requests(): number;
}

export function listPath(r: PagedResource, pageSize: number, token?: string): string {
  const base = r.group === '' ? `/api/${r.version}/${r.resource}` : `/apis/${r.group}/${r.version}/${r.resource}`;
  const query = new URLSearchParams({ limit: String(pageSize) });
  if (token) query.set('continue', token);
  return `${base}?${query.toString()}`;
}

export function objectPages(get: ApiGet): ObjectPages {
  let sent = 0;
  return {
    requests: () => sent,
    pages(resource, pageSize, options = {}) {
      return {
        async *[Symbol.asyncIterator]() {
          let token = options.continue;
          do {
            sent += 1;
            const body = (await get(listPath(resource, pageSize, token), options.signal)) as { items?: unknown; metadata?: { continue?: string; resourceVersion?: string } };
            const items = Array.isArray(body.items) ? (body.items as unknown[]) : [];
            token = body.metadata?.continue || undefined;
            yield { items, ...(token ? { continue: token } : {}), ...(body.metadata?.resourceVersion ? { resourceVersion: body.metadata.resourceVersion } : {}) };
          } while (token);
        },
      };
    },
  };
}

export function kubeObjectPages(kc: KubeConfig): ObjectPages {
  return objectPages(apiGetter(kc, { timeoutMs: 60_000 }));
}
