// What a ConstraintTemplate says it reads from the replicated objects: the annotation
// `metadata.gatekeeper.sh/requires-sync-data`, in the form Gatekeeper's gator reads it
// (pkg/cachemanager/parser/syncannotationreader.go): a JSON list of requirements that must all
// hold, each a list of clauses `{"groups": [...], "versions": [...], "kinds": [...]}` whose
// every group × version × kind is an alternative that satisfies the requirement.
//   [[{"groups": ["networking.k8s.io"], "versions": ["v1", "v1beta1"], "kinds": ["Ingress"]}]]
// is one requirement, satisfied by networking.k8s.io/v1 Ingress or networking.k8s.io/v1beta1 Ingress.
// Gatekeeper treats the annotation as descriptive; bouncer replicates from it, so it is
// checked strictly: a clause that expands to nothing is refused rather than left unmeetable.
import { isPlainObject } from './parameters-schema.js';
import { sourceInvalid } from './source-invalid.js';
import type { Gvk } from './types.js';
import { parseJson } from '../json/parse-json.js';

export const SYNC_ANNOTATION = 'metadata.gatekeeper.sh/requires-sync-data';

/** One requirement: any of its alternatives, in the order the annotation lists them, satisfies it. */
export interface SyncRequirement {
  readonly alternatives: readonly Gvk[];
}

const CLAUSE_FIELDS = ['groups', 'versions', 'kinds'] as const;

/** `group/version:Kind`, as gator prints a GVK (`/v1:Service` for the core group). */
export function gatorGvk(gvk: Gvk): string {
  return `${gvk.group}/${gvk.version}:${gvk.kind}`;
}

/** The template's requirements; [] when it has no annotation. `at` locates the template for messages. */
export function readSyncRequirements(annotations: unknown, at: string): SyncRequirement[] {
  if (!isPlainObject(annotations)) return [];
  const raw = annotations[SYNC_ANNOTATION];
  if (raw === undefined) return [];
  const where = `${at}: annotation ${SYNC_ANNOTATION}`;
  if (typeof raw !== 'string') throw sourceInvalid(where, 'must be a string holding JSON');
  // gator trims newlines and double quotes around the JSON (strings.Trim(annotation, "\n\"")).
  const text = raw.replace(/^[\n"]+|[\n"]+$/g, '');
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (cause) {
    throw sourceInvalid(where, `is not JSON: ${(cause as Error).message}`);
  }
  const shape = 'must be a list of requirements, each a list of {"groups": [...], "versions": [...], "kinds": [...]} clauses';
  if (!Array.isArray(value)) throw sourceInvalid(where, shape);
  return value.map((requirement: unknown, r) => {
    if (!Array.isArray(requirement) || requirement.length === 0) throw sourceInvalid(`${where}: requirement ${r}`, `${shape}; a requirement lists at least one clause`);
    const seen = new Set<string>();
    const alternatives: Gvk[] = [];
    requirement.forEach((clause: unknown, c) => {
      const place = `${where}: requirement ${r} clause ${c}`;
      if (!isPlainObject(clause)) throw sourceInvalid(place, 'a clause is an object with groups, versions and kinds');
      const unknown = Object.keys(clause).filter((k) => !(CLAUSE_FIELDS as readonly string[]).includes(k));
      if (unknown.length > 0) throw sourceInvalid(place, `unknown field ${JSON.stringify(unknown[0])}: a clause has only groups, versions and kinds (gator refuses unknown fields)`);
      const lists = CLAUSE_FIELDS.map((field) => {
        const list = clause[field];
        if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string'))
          throw sourceInvalid(place, `${field} must be a non-empty list of strings${field === 'groups' ? ' ("" is the core group)' : ''}: a clause without one stands for no kind at all`);
        if (field !== 'groups' && list.some((s) => s === '')) throw sourceInvalid(place, `${field} must not contain ""`);
        return list as string[];
      });
      const [groups, versions, kinds] = lists as [string[], string[], string[]];
      for (const group of groups)
        for (const version of versions)
          for (const kind of kinds) {
            const key = `${group}/${version}/${kind}`;
            if (!seen.has(key)) alternatives.push({ group, version, kind });
            seen.add(key);
          }
    });
    return { alternatives };
  });
}
