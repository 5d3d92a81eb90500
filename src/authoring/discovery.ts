// A resource table read from an API server's discovery: /api and /apis list the group
// versions, each group version's APIResourceList names its resources and subresources
// (name, kind, namespaced, verbs), and the OpenAPI v3 document of a group version marks the
// operations that are connections (`x-kubernetes-action: connect`: exec, attach,
// portforward, proxy), whose admission operation is CONNECT whatever the HTTP verb.
// https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api
import type { Operation } from '../admission/types.js';
import { BouncerError } from '../errors/errors.js';
import type { ResourceInfo, ResourceTable, SubresourceInfo } from './resource-table.js';

/** GETs a path of the API server and returns the parsed JSON body. */
export type DiscoveryGet = (path: string) => Promise<unknown>;

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
  group?: string;
  version?: string;
}

interface GroupVersion {
  group: string;
  version: string;
  /** Position in the group's preference order (0 = preferred); /apis lists the preferred first. */
  rank: number;
}

export interface DiscoveryOptions {
  /** Leave out resources served by CustomResourceDefinitions and aggregated API servers (the built-in table). */
  readonly builtinOnly?: boolean;
}

function invalid(path: string, what: string): BouncerError {
  return new BouncerError('CLUSTER_FAILED', `discovery ${path}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function groupVersions(get: DiscoveryGet): Promise<GroupVersion[]> {
  const core = await get('/api');
  if (!isObject(core) || !Array.isArray(core.versions)) throw invalid('/api', 'no versions');
  const out: GroupVersion[] = (core.versions as string[]).map((version, rank) => ({ group: '', version, rank }));
  const apis = await get('/apis');
  if (!isObject(apis) || !Array.isArray(apis.groups)) throw invalid('/apis', 'no groups');
  for (const g of apis.groups as { name: string; versions: { version: string }[]; preferredVersion?: { version: string } }[]) {
    const preferred = g.preferredVersion?.version;
    const versions = g.versions.map((v) => v.version);
    const ordered = preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions;
    ordered.forEach((version, rank) => out.push({ group: g.name, version, rank }));
  }
  return out;
}

function pathOf(gv: { group: string; version: string }): string {
  return gv.group === '' ? `/api/${gv.version}` : `/apis/${gv.group}/${gv.version}`;
}

/** "pods/exec"-style names of the connect operations in a group version's OpenAPI v3 document. */
async function connectSubresources(get: DiscoveryGet, gv: GroupVersion, index: Record<string, string>): Promise<Set<string>> {
  const key = pathOf(gv).slice(1);
  const url = index[key];
  const out = new Set<string>();
  if (!url) return out;
  const doc = await get(url);
  const paths = isObject(doc) && isObject(doc.paths) ? doc.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    const connect = Object.values(item).some((op) => isObject(op) && op['x-kubernetes-action'] === 'connect');
    if (!connect) continue;
    // .../{resource}/{name}/{subresource}[/{path}]
    const segments = path.split('/');
    const at = segments.lastIndexOf('{name}');
    if (at > 0 && segments[at + 1]) out.add(`${segments[at - 1]}/${segments[at + 1]}`);
  }
  return out;
}

function operationsFor(verbs: readonly string[], connect: boolean): Operation[] {
  if (connect) return ['CONNECT'];
  const ops = new Set<Operation>();
  for (const v of verbs) {
    if (v === 'create') ops.add('CREATE');
    if (v === 'update' || v === 'patch') ops.add('UPDATE');
    if (v === 'delete' || v === 'deletecollection') ops.add('DELETE');
  }
  return (['CREATE', 'UPDATE', 'DELETE'] as const).filter((o) => ops.has(o));
}

/** Groups and group/resources served by CRDs or by aggregated API servers. */
async function nonBuiltin(get: DiscoveryGet): Promise<{ resources: Set<string>; groupVersions: Set<string> }> {
  const crds = (await get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions')) as { items?: { spec: { group: string; names: { plural: string } } }[] };
  const services = (await get('/apis/apiregistration.k8s.io/v1/apiservices')) as { items?: { spec: { group?: string; version?: string; service?: unknown } }[] };
  return {
    resources: new Set((crds.items ?? []).map((c) => `${c.spec.group}/${c.spec.names.plural}`)),
    groupVersions: new Set((services.items ?? []).filter((s) => s.spec.service).map((s) => `${s.spec.group ?? ''}/${s.spec.version ?? ''}`)),
  };
}

/** Code-unit order: the generated table must not depend on the machine's locale. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The resource table of the API server behind `get`. */
export async function discoverResources(get: DiscoveryGet, source: string, options: DiscoveryOptions = {}): Promise<ResourceTable> {
  const gvs = await groupVersions(get);
  const excluded = options.builtinOnly ? await nonBuiltin(get) : { resources: new Set<string>(), groupVersions: new Set<string>() };
  let openapi: Record<string, string> | undefined;
  const byResource = new Map<string, { info: Omit<ResourceInfo, 'versions' | 'subresources'>; versions: { version: string; rank: number }[]; subresources: Map<string, SubresourceInfo> }>();
  for (const gv of gvs) {
    if (excluded.groupVersions.has(`${gv.group}/${gv.version}`)) continue;
    const list = await get(pathOf(gv));
    if (!isObject(list) || !Array.isArray(list.resources)) throw invalid(pathOf(gv), 'no resources');
    const resources = list.resources as ApiResource[];
    // Only group versions with subresources other than status and scale can hold connections.
    let connect = new Set<string>();
    if (resources.some((r) => r.name.includes('/') && !/\/(status|scale)$/.test(r.name))) {
      if (!openapi) {
        const index = await get('/openapi/v3');
        openapi = Object.fromEntries(
          Object.entries(isObject(index) && isObject(index.paths) ? index.paths : {}).map(([k, v]) => [k, isObject(v) ? String(v.serverRelativeURL) : '']),
        );
      }
      connect = await connectSubresources(get, gv, openapi);
    }
    const mains = resources.filter((r) => !r.name.includes('/'));
    for (const r of mains) {
      if (excluded.resources.has(`${gv.group}/${r.name}`)) continue;
      const key = `${gv.group}/${r.name}`;
      const entry = byResource.get(key) ?? {
        info: { group: gv.group, kind: r.kind, resource: r.name, namespaced: r.namespaced, operations: operationsFor(r.verbs ?? [], false) },
        versions: [],
        subresources: new Map<string, SubresourceInfo>(),
      };
      entry.versions.push({ version: gv.version, rank: gv.rank });
      // Group versions come preferred first, so the first one seen decides kind, scope,
      // operations and each subresource's kind.
      for (const s of resources.filter((x) => x.name.startsWith(`${r.name}/`))) {
        const name = s.name.slice(r.name.length + 1);
        if (entry.subresources.has(name)) continue;
        entry.subresources.set(name, {
          name,
          group: s.group ?? gv.group,
          version: s.version ?? gv.version,
          kind: s.kind,
          operations: operationsFor(s.verbs ?? [], connect.has(s.name)),
        });
      }
      byResource.set(key, entry);
    }
  }
  const resources: ResourceInfo[] = [...byResource.values()].map((e) => ({
    ...e.info,
    versions: e.versions.sort((a, b) => a.rank - b.rank).map((v) => v.version),
    subresources: [...e.subresources.values()].sort((a, b) => byText(a.name, b.name)),
  }));
  resources.sort((a, b) => byText(a.group, b.group) || byText(a.resource, b.resource));
  return { source, resources };
}

/** The TypeScript module of a generated table (src/authoring/builtin-resources.ts). */
export function renderTableModule(table: ResourceTable, regenerate: string): string {
  const lines = [
    `// GENERATED from the discovery of ${table.source} by hack/gen-resource-table.ts; do not edit.`,
    `// Regenerate: ${regenerate}`,
    `// Built-in kinds only: resources served by CRDs or aggregated API servers are left out.`,
    `import type { ResourceTable } from './resource-table.js';`,
    '',
    'export const BUILTIN_RESOURCES: ResourceTable = {',
    `  source: ${JSON.stringify(table.source)},`,
    '  resources: [',
    ...table.resources.map((r) => `    ${JSON.stringify(r)},`),
    '  ],',
    '};',
    '',
  ];
  return lines.join('\n');
}
