// The checks across Gatekeeper objects, once every file is read: template names unique, each
// constraint's kind defined by a template, constraint names unique within a kind, and each
// constraint's parameters checked (and defaulted) against its template's schema.
import { createParametersChecker } from './parameters-checker.js';
import { parseConstraintAt } from './parse-constraint.js';
import { isConstraintTemplate, locate } from './parse-documents.js';
import type { SyncConfiguration } from './parse-sync-config.js';
import { sourceInvalid } from './source-invalid.js';
import type { Constraint, ConstraintTemplate } from './types.js';

export interface GatekeeperPolicies {
  templates: ConstraintTemplate[];
  constraints: Constraint[];
  /** The SyncSets and the Config of gatekeeper/*.yaml, when there are any (parse-sync-config.ts). */
  sync?: SyncConfiguration[];
}

export function checkGatekeeperObjects(objects: readonly (ConstraintTemplate | Constraint)[]): GatekeeperPolicies {
  const templates = objects.filter(isConstraintTemplate);
  const byKind = new Map<string, ConstraintTemplate>();
  for (const t of templates) {
    const other = [...byKind.values()].find((o) => o.name === t.name);
    if (other) throw sourceInvalid(`${locate(t.file, t.position)}: ConstraintTemplate ${t.name}`, `duplicate template name: ${locate(other.file, other.position)} defines it too`);
    byKind.set(t.kind, t);
  }
  const parameters = createParametersChecker();
  for (const t of templates) parameters.compile(t);
  const seen = new Map<string, Constraint>();
  const constraints = objects
    .filter((o): o is Constraint => !isConstraintTemplate(o))
    .map((c) => {
      const checked = { ...parseConstraintAt(c.source, c.file, locate(c.file, c.position), { templates: byKind, parameters }), ...(c.position ? { position: c.position } : {}) };
      const other = seen.get(checked.id);
      if (other)
        throw sourceInvalid(`${locate(c.file, c.position)}: ${c.id}`, `duplicate constraint name ${c.name} for kind ${c.kind}: ${locate(other.file, other.position)} defines it too`);
      seen.set(checked.id, checked);
      return checked;
    });
  return { templates, constraints };
}
