// The resources an API server serves, for the audit (structurally audit's ResourceDiscovery,
// src/audit/cluster-access.ts): /api and /apis list the group versions in preference order,
// each group version's APIResourceList its resources. Each group/resource is taken once, at the
// first version serving it in the group's preference order, as client-go's
// ServerPreferredResources does; only resources with the list verb, no subresources.
// A group version whose list cannot be read (an aggregated API server that is down) is
// returned as a failure, as ServerPreferredResources returns ErrGroupDiscoveryFailed with the
// rest; /api or /apis failing throws.
import type { KubeConfig } from '@kubernetes/client-node';
import { BouncerError } from '../errors/errors.js';
import { apiGetter, type ApiGet } from './api-get.js';

export interface ServedResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export interface DiscoveryResult {
  readonly resources: readonly ServedResource[];
  readonly failures: readonly { readonly groupVersion: string; readonly message: string }[];
}

interface ApiResourceList {
  resources?: { name?: string; kind?: string; namespaced?: boolean; verbs?: string[] }[];
}

type Groups = { groups?: { name: string; versions: { version: string }[]; preferredVersion?: { version: string } }[] };

export function discoverServedResources(get: ApiGet): { resources(): Promise<DiscoveryResult> } {
  return {
    async resources() {
      const core = (await get('/api')) as { versions?: string[] };
      const apis = (await get('/apis')) as Groups;
      if (!Array.isArray(core.versions) || !Array.isArray(apis.groups)) throw new BouncerError('CLUSTER_FAILED', 'discovery: /api or /apis has no versions');
      const gvs: { group: string; version: string }[] = core.versions.map((version) => ({ group: '', version }));
      for (const g of apis.groups) {
        const preferred = g.preferredVersion?.version;
        const versions = g.versions.map((v) => v.version);
        for (const version of preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions) gvs.push({ group: g.name, version });
      }
      const seen = new Set<string>();
      const resources: ServedResource[] = [];
      const failures: { groupVersion: string; message: string }[] = [];
      for (const gv of gvs) {
        const groupVersion = gv.group === '' ? gv.version : `${gv.group}/${gv.version}`;
        let list: ApiResourceList;
        try {
          list = (await get(gv.group === '' ? `/api/${gv.version}` : `/apis/${groupVersion}`)) as ApiResourceList;
        } catch (err) {
          failures.push({ groupVersion, message: (err as Error).message });
          continue;
        }
        for (const r of list.resources ?? []) {
          if (!r.name || r.name.includes('/') || !r.kind || !(r.verbs ?? []).includes('list')) continue;
          const key = `${gv.group}/${r.name}`;
          if (seen.has(key)) continue;
          seen.add(key);
          resources.push({ group: gv.group, version: gv.version, resource: r.name, kind: r.kind, namespaced: r.namespaced === true });
        }
      }
      return { resources, failures };
    },
  };
}

export function kubeResourceDiscovery(kc: KubeConfig): { resources(): Promise<DiscoveryResult> } {
  return discoverServedResources(apiGetter(kc, { timeoutMs: 15_000 }));
}
