// The replicated kinds of a bundle (`metadata.bouncer.inventory`): every kind some policy of the
// bundle reads from data.inventory, with whether its objects keep `status` and who reads it.
// Written by `bouncer build` (src/authoring/inventory-requirements.ts), checked again when the
// bundle is loaded: it decides what bouncer lists and watches. A bundle built before it existed
// has none and loads with no replicated kinds.
import { BouncerError } from '../errors/errors.js';
import { kindKey, type InventoryRequirement, type InventoryRequirements } from '../inventory/types.js';

export const NO_INVENTORY: InventoryRequirements = Object.freeze({ kinds: Object.freeze([]) });

function invalid(message: string): never {
  throw new BouncerError('BUNDLE_MANIFEST_INVALID', `metadata.bouncer.inventory: ${message}`);
}

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const GROUP = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$/;
const VERSION = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KIND = /^[A-Za-z][A-Za-z0-9]*$/;
const RESOURCE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const FIELDS = new Set(['group', 'version', 'kind', 'status', 'readers', 'resource']);

function names(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== '')) invalid(`${where} must be a list of names`);
  const list = v as string[];
  if (new Set(list).size !== list.length) invalid(`${where} names one reader twice`);
  return list;
}

function parseKindEntry(v: unknown, i: number): InventoryRequirement {
  if (!isObject(v)) invalid(`kinds[${i}] must be an object`);
  const extra = Object.keys(v).find((k) => !FIELDS.has(k));
  if (extra !== undefined) invalid(`kinds[${i}]: unknown field ${extra}`);
  const { group, version, kind, status, readers, resource } = v;
  if (typeof group !== 'string' || !GROUP.test(group)) invalid(`kinds[${i}]: group must be an API group ("" for the core group)`);
  if (typeof version !== 'string' || !VERSION.test(version)) invalid(`kinds[${i}]: version must be an API version such as v1`);
  if (typeof kind !== 'string' || !KIND.test(kind)) invalid(`kinds[${i}]: kind must be a kind name such as Ingress`);
  if (typeof status !== 'boolean') invalid(`kinds[${i}]: status must be true or false`);
  if (resource !== undefined && (typeof resource !== 'string' || !RESOURCE.test(resource))) invalid(`kinds[${i}]: resource must be a lowercase resource name such as ingresses`);
  if (!isObject(readers) || Object.keys(readers).some((k) => k !== 'policies' && k !== 'templates')) invalid(`kinds[${i}]: readers must be {policies: [...], templates: [...]}`);
  return {
    group,
    version,
    kind,
    status,
    readers: { policies: names(readers.policies, `kinds[${i}].readers.policies`), templates: names(readers.templates, `kinds[${i}].readers.templates`) },
    ...(resource !== undefined ? { resource } : {}),
  };
}

/**
 * Checks `metadata.bouncer.inventory`; absent is no replicated kinds. `known` are the bundle's
 * policy ids and template kinds: every reader must be one of them.
 */
export function parseInventoryManifest(raw: unknown, known: { readonly policies: ReadonlySet<string>; readonly templates: ReadonlySet<string> }): InventoryRequirements {
  if (raw === undefined || raw === null) return NO_INVENTORY;
  if (!isObject(raw) || Object.keys(raw).some((k) => k !== 'kinds') || !Array.isArray(raw.kinds)) invalid('must be {kinds: [...]}');
  const kinds = raw.kinds.map(parseKindEntry);
  const seen = new Set<string>();
  for (const k of kinds) {
    const key = kindKey(k);
    if (seen.has(key)) invalid(`kind ${key} appears twice`);
    seen.add(key);
    for (const p of k.readers.policies) if (!known.policies.has(p)) invalid(`kind ${key}: reader policy ${p} is not in the bundle`);
    for (const t of k.readers.templates) if (!known.templates.has(t)) invalid(`kind ${key}: reader template ${t} is not in the bundle`);
  }
  return Object.freeze({ kinds: Object.freeze(kinds) });
}
