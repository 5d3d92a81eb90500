// Which kinds a bundle replicates (metadata.bouncer.inventory), decided once at build time.
// bouncer's rule (docs/gatekeeper.md, "Replicated objects: what a bundle declares"): exactly the
// union of
//   - every native policy's `custom.requires` entries,
//   - every ConstraintTemplate requirement (metadata.gatekeeper.sh/requires-sync-data), each
//     resolved to one kind: the first alternative the sync configuration lists, else the first
//     one the pinned Kubernetes version serves, else the first alternative,
//   - the kinds of the sync configuration (SyncSets' spec.gvks, the Config's spec.sync.syncOnly).
// A kind keeps `status` only when a reader asks: a native requirement with `status: true`, or a
// template whose Rego reads `status` of that kind's objects under data.inventory (any of its
// kinds when the ref does not name the kind; rego-reads.ts).
import type { ConstraintTemplate } from '../gatekeeper/types.js';
import type { SyncConfiguration } from '../gatekeeper/parse-sync-config.js';
import { gatorGvk } from '../gatekeeper/sync-requirements.js';
import { locate } from '../gatekeeper/parse-documents.js';
import { kindKey, type GroupVersionKind, type InventoryRequirement, type InventoryRequirements } from '../inventory/types.js';
import type { RegoReads } from './rego-reads.js';
import { groupsOf, lookupKind, suggestKinds, type ResourceTable } from './resource-table.js';

/** One entry of a native policy's `custom.requires`. */
export interface NativeRequirement extends GroupVersionKind {
  readonly status: boolean;
  /** The plural, for a custom kind the table of built-in kinds does not know. */
  readonly resource?: string;
}

const FIELDS = new Set(['group', 'version', 'kind', 'status', 'resource']);
const RESOURCE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Checks `custom.requires`: a list of {group, version, kind, status?, resource?} ("" is the core
 * group). Throws an Error whose message says what to write; the build names the policy.
 */
export function parseRequires(raw: unknown): NativeRequirement[] {
  if (raw === undefined || raw === null) return [];
  const shape = 'custom.requires must be a list of {group, version, kind} (optionally status: true, resource: plural), e.g. [{group: networking.k8s.io, version: v1, kind: Ingress}]';
  if (!Array.isArray(raw)) throw new Error(shape);
  const seen = new Set<string>();
  return raw.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`custom.requires[${i}]: ${shape}`);
    const e = entry as Record<string, unknown>;
    const extra = Object.keys(e).find((k) => !FIELDS.has(k));
    if (extra !== undefined) throw new Error(`custom.requires[${i}]: unknown field ${extra} (fields: group, version, kind, status, resource)`);
    // YAML reads an empty `group:` as null: the core group.
    const group = e.group ?? '';
    if (typeof group !== 'string') throw new Error(`custom.requires[${i}]: group must be a string ("" for the core group)`);
    if (typeof e.version !== 'string' || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(e.version)) throw new Error(`custom.requires[${i}]: version must be an API version such as v1`);
    if (typeof e.kind !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(e.kind)) throw new Error(`custom.requires[${i}]: kind must be a kind such as Ingress (capitalised, singular)`);
    if (e.status !== undefined && typeof e.status !== 'boolean') throw new Error(`custom.requires[${i}]: status must be true or false`);
    if (e.resource !== undefined && (typeof e.resource !== 'string' || !RESOURCE.test(e.resource))) throw new Error(`custom.requires[${i}]: resource must be a lowercase resource name such as crontabs`);
    const req: NativeRequirement = { group, version: e.version, kind: e.kind, status: e.status === true, ...(typeof e.resource === 'string' ? { resource: e.resource } : {}) };
    const key = kindKey(req);
    if (seen.has(key)) throw new Error(`custom.requires lists ${key} twice`);
    seen.add(key);
    return req;
  });
}

export interface NativeReader {
  readonly id: string;
  readonly requires: readonly NativeRequirement[];
  readonly reads: RegoReads;
}

export interface TemplateReader {
  readonly template: ConstraintTemplate;
  readonly reads: RegoReads;
}

export interface ResolvedInventory {
  readonly inventory: InventoryRequirements;
  readonly warnings: readonly string[];
}

const sameKind = (a: GroupVersionKind, b: GroupVersionKind): boolean => a.group === b.group && a.version === b.version && a.kind === b.kind;

/** Whether `table` serves the kind at that version. */
function serves(table: ResourceTable, gvk: GroupVersionKind): boolean {
  return lookupKind(table, gvk.group, gvk.kind).some((r) => r.versions.includes(gvk.version));
}

/** The kind a template requirement is replicated as (see the rule at the top). */
export function resolveRequirement(alternatives: readonly GroupVersionKind[], synced: readonly GroupVersionKind[], table: ResourceTable): { kind: GroupVersionKind; satisfied: boolean } {
  const bySync = alternatives.find((a) => synced.some((s) => sameKind(a, s)));
  if (bySync) return { kind: bySync, satisfied: true };
  return { kind: alternatives.find((a) => serves(table, a)) ?? (alternatives[0] as GroupVersionKind), satisfied: false };
}

/** A built-in kind must be one the table serves at that version; a custom one is anything in another group. */
function checkKnown(gvk: GroupVersionKind, table: ResourceTable, where: string): void {
  if (!groupsOf(table).has(gvk.group)) return;
  const infos = lookupKind(table, gvk.group, gvk.kind);
  const name = gvk.group === '' ? gvk.kind : `${gvk.group}/${gvk.kind}`;
  if (infos.length === 0) {
    const hint = suggestKinds(table, gvk.group, gvk.kind);
    throw new Error(`${where}: ${table.source} has no kind ${name}${hint.length > 0 ? ` (did you mean ${hint.join(', ')}?)` : ''}`);
  }
  if (!infos.some((r) => r.versions.includes(gvk.version))) throw new Error(`${where}: ${table.source} serves ${name} as ${infos.flatMap((r) => r.versions).join(', ')}, not ${gvk.version}`);
}

function resourceOf(gvk: GroupVersionKind, given: string | undefined, table: ResourceTable, where: string): string | undefined {
  const [info] = lookupKind(table, gvk.group, gvk.kind);
  if (info && given !== undefined && given !== info.resource) throw new Error(`${where}: the resource of ${kindKey(gvk)} is ${info.resource}, not ${given}`);
  return given ?? info?.resource;
}

interface Entry {
  gvk: GroupVersionKind;
  status: boolean;
  resource?: string;
  policies: Set<string>;
  templates: Set<string>;
}

/**
 * The bundle's replicated kinds and the warnings of the declarations: a reader of
 * data.inventory that declares nothing, and (when a sync configuration exists) a template
 * requirement it does not satisfy. Throws an Error (the build wraps it) for a built-in kind the
 * table does not serve. Kinds are ordered by kindKey; readers by name.
 */
export function resolveInventory(native: readonly NativeReader[], templates: readonly TemplateReader[], sync: readonly SyncConfiguration[], table: ResourceTable): ResolvedInventory {
  const entries = new Map<string, Entry>();
  const warnings: string[] = [];
  const add = (gvk: GroupVersionKind, status: boolean, where: string, resource?: string): Entry => {
    checkKnown(gvk, table, where);
    const key = kindKey(gvk);
    const entry = entries.get(key) ?? { gvk: { group: gvk.group, version: gvk.version, kind: gvk.kind }, status: false, policies: new Set<string>(), templates: new Set<string>() };
    entry.status ||= status;
    const r = resourceOf(gvk, resource ?? entry.resource, table, where);
    if (r !== undefined) entry.resource = r;
    entries.set(key, entry);
    return entry;
  };
  for (const p of native) {
    if (p.reads.inventory && p.requires.length === 0)
      warnings.push(`policy ${p.id} reads data.inventory but declares no kinds (custom.requires in its METADATA): bouncer replicates only declared kinds, so what it reads there is empty`);
    for (const r of p.requires) add(r, r.status, `policy ${p.id}: custom.requires ${kindKey(r)}`, r.resource).policies.add(p.id);
    for (const r of p.requires)
      if (!r.status && p.reads.inventoryStatus.includes(r.kind))
        warnings.push(`policy ${p.id} reads status of replicated ${r.kind} objects, which custom.requires ${kindKey(r)} drops: add status: true to keep it`);
  }
  const synced = sync.flatMap((s) => s.gvks);
  for (const { template, reads } of templates) {
    const requirements = template.syncRequirements ?? [];
    const where = `${locate(template.file, template.position)}: ConstraintTemplate ${template.name}`;
    if (reads.inventory && requirements.length === 0)
      warnings.push(`${where} reads data.inventory but declares no kinds (the metadata.gatekeeper.sh/requires-sync-data annotation): bouncer replicates only declared kinds for it`);
    for (const requirement of requirements) {
      const { kind, satisfied } = resolveRequirement(requirement.alternatives, synced, table);
      if (!satisfied && sync.length > 0)
        warnings.push(`${where}: no sync configuration (SyncSet, Config) satisfies the requirement ${requirement.alternatives.map(gatorGvk).join(' OR ')}; bouncer replicates ${gatorGvk(kind)} for it`);
      const status = reads.inventoryStatus.includes(null) || reads.inventoryStatus.includes(kind.kind);
      add(kind, status, `${where}: requires-sync-data ${gatorGvk(kind)}`).templates.add(template.kind);
    }
  }
  for (const s of sync) for (const gvk of s.gvks) add(gvk, false, `${locate(s.file, s.position)}: ${s.kind} ${s.name}: ${gatorGvk(gvk)}`);
  const kinds: InventoryRequirement[] = [...entries.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, e]) => ({
      ...e.gvk,
      status: e.status,
      readers: { policies: [...e.policies].sort(), templates: [...e.templates].sort() },
      ...(e.resource !== undefined ? { resource: e.resource } : {}),
    }));
  return { inventory: { kinds }, warnings };
}
