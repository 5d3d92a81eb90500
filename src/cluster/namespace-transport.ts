// The API calls of the Namespace cache, made with client-node against a cluster.
import { ApiException, CoreV1Api, Watch, type KubeConfig, type V1Namespace, type V1NamespaceList } from '@kubernetes/client-node';
import type { NamespaceTransport } from './namespace-cache.js';

/** Namespaces per list page by default: what client-go's reflector asks for (pager.PageSize). */
export const LIST_PAGE = 500;

export function kubeNamespaceTransport(kc: KubeConfig, pageSize = LIST_PAGE): NamespaceTransport {
  const core = kc.makeApiClient(CoreV1Api);
  const watch = new Watch(kc);
  return {
    list: () => listAll(core, pageSize),
    watch: (...args) => watch.watch(...args),
    read: (name) => core.readNamespace({ name }).catch((err: unknown) => (err instanceof ApiException && err.code === 404 ? undefined : Promise.reject(err))),
  };
}

/**
 * Every Namespace, in pages (all served from one snapshot, whose resourceVersion the last page
 * carries); each page is cut down to the metadata the projection reads before the next is
 * fetched, so a large cluster is never held whole as received.
 */
async function listAll(core: CoreV1Api, limit: number): Promise<V1NamespaceList> {
  const items: V1Namespace[] = [];
  let next: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const page = await core.listNamespace({ limit, ...(next ? { _continue: next } : {}) });
    for (const { metadata: m } of page.items) {
      items.push({ metadata: { name: m?.name, resourceVersion: m?.resourceVersion, labels: m?.labels, annotations: m?.annotations } });
    }
    next = page.metadata?._continue || undefined;
    resourceVersion = page.metadata?.resourceVersion;
  } while (next);
  return { items, metadata: resourceVersion ? { resourceVersion } : {} };
}

