// A sync configuration in Gatekeeper's style, which bouncer honours when it sits in the policy
// directory (gatekeeper/*.yaml): which kinds are replicated into data.inventory.
//   syncset.gatekeeper.sh/v1alpha1 SyncSet   spec.gvks[]           (apis/syncset/v1alpha1)
//   config.gatekeeper.sh/v1alpha1  Config    spec.sync.syncOnly[]  (apis/config/v1alpha1)
// Each entry is {group, version, kind} ("" or no group is the core group). Checked as strictly
// as templates: apiVersion, a valid metadata.name, entries with a version and a kind and no
// other fields. Other Config fields (match, validation, readiness) are Gatekeeper's process
// settings; bouncer reads only spec.sync.
import { isDns1123Subdomain } from './k8s-names.js';
import { isPlainObject } from './parameters-schema.js';
import { sourceInvalid } from './source-invalid.js';
import type { DocumentPosition, Gvk } from './types.js';

export const SYNCSET_API_VERSION = 'syncset.gatekeeper.sh/v1alpha1';
export const CONFIG_API_VERSION = 'config.gatekeeper.sh/v1alpha1';

export interface SyncConfiguration {
  readonly kind: 'SyncSet' | 'Config';
  readonly name: string;
  readonly file: string;
  readonly position?: DocumentPosition;
  /** In the order listed, duplicates removed. */
  readonly gvks: readonly Gvk[];
}

/** True for an object of the SyncSet or Config group, whatever its version and kind (they are then checked). */
export function isSyncObject(obj: Readonly<Record<string, unknown>>): boolean {
  const group = typeof obj.apiVersion === 'string' ? obj.apiVersion.split('/')[0] : '';
  return group === 'syncset.gatekeeper.sh' || group === 'config.gatekeeper.sh';
}

const ENTRY_FIELDS = ['group', 'version', 'kind'];

export function parseSyncConfiguration(obj: Readonly<Record<string, unknown>>, file: string, where: string): SyncConfiguration {
  const syncSet = obj.apiVersion === SYNCSET_API_VERSION && obj.kind === 'SyncSet';
  const config = obj.apiVersion === CONFIG_API_VERSION && obj.kind === 'Config';
  if (!syncSet && !config) throw sourceInvalid(where, `apiVersion ${JSON.stringify(obj.apiVersion ?? '')} kind ${JSON.stringify(obj.kind ?? '')}: a sync configuration is a ${SYNCSET_API_VERSION} SyncSet or a ${CONFIG_API_VERSION} Config`);
  const kind = syncSet ? 'SyncSet' : 'Config';
  const metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || !isDns1123Subdomain(name)) throw sourceInvalid(where, `${kind}: metadata.name is missing or not a valid name (a DNS-1123 subdomain)`);
  const at = `${where}: ${kind} ${name}`;
  const spec = obj.spec === undefined || obj.spec === null ? {} : obj.spec;
  if (!isPlainObject(spec)) throw sourceInvalid(at, 'spec must be an object');
  let field: string;
  let list: unknown;
  if (syncSet) {
    field = 'spec.gvks';
    list = spec.gvks;
  } else {
    field = 'spec.sync.syncOnly';
    const sync = spec.sync === undefined || spec.sync === null ? {} : spec.sync;
    if (!isPlainObject(sync)) throw sourceInvalid(at, 'spec.sync must be an object');
    list = sync.syncOnly;
  }
  if (list === undefined || list === null) list = [];
  if (!Array.isArray(list)) throw sourceInvalid(at, `${field} must be a list of {group, version, kind}`);
  const seen = new Set<string>();
  const gvks: Gvk[] = [];
  list.forEach((entry: unknown, i) => {
    const place = `${at}: ${field}[${i}]`;
    if (!isPlainObject(entry)) throw sourceInvalid(place, 'must be an object {group, version, kind}');
    const extra = Object.keys(entry).find((k) => !ENTRY_FIELDS.includes(k));
    if (extra !== undefined) throw sourceInvalid(place, `unknown field ${JSON.stringify(extra)}: an entry has only group, version and kind`);
    const group = entry.group ?? '';
    if (typeof group !== 'string') throw sourceInvalid(place, 'group must be a string ("" for the core group)');
    if (typeof entry.version !== 'string' || entry.version === '') throw sourceInvalid(place, 'version is missing (e.g. "v1")');
    if (typeof entry.kind !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(entry.kind)) throw sourceInvalid(place, 'kind is missing or not a kind name (e.g. "Ingress")');
    const key = `${group}/${entry.version}/${entry.kind}`;
    if (!seen.has(key)) gvks.push({ group, version: entry.version, kind: entry.kind });
    seen.add(key);
  });
  return { kind, name, file, gvks };
}
