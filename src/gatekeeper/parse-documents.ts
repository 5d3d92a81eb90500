// The Gatekeeper objects of one YAML file (YAML 1.2, any number of documents; see yaml-documents.ts). Every document
// must be a ConstraintTemplate or a Constraint; errors name the file, the document (1-based)
// and its line.
import { isPlainObject } from './parameters-schema.js';
import { isConstraintObject, parseConstraintAt } from './parse-constraint.js';
import { isSyncObject, parseSyncConfiguration, type SyncConfiguration } from './parse-sync-config.js';
import { parseTemplateAt, TEMPLATE_GROUP, TEMPLATE_VERSIONS } from './parse-template.js';
import { sourceInvalid } from './source-invalid.js';
import type { Constraint, ConstraintTemplate, DocumentPosition } from './types.js';
import { parseYamlDocuments } from './yaml-documents.js';

/**
 * `options.sync` collects the sync configurations (SyncSet, Config) of the file; without it a
 * sync configuration is refused like any other object that is not a template or a constraint.
 */
export function parseGatekeeperDocuments(text: string, file: string, options: { sync?: SyncConfiguration[] } = {}): (ConstraintTemplate | Constraint)[] {
  const out: (ConstraintTemplate | Constraint)[] = [];
  for (const doc of parseYamlDocuments(text, file)) {
    const obj = doc.value;
    if (obj === null || obj === undefined) continue; // an empty document (`---` at the end)
    const where = locate(file, { document: doc.index, line: doc.line });
    if (!isPlainObject(obj)) throw sourceInvalid(where, 'not a Kubernetes object (a mapping with apiVersion and kind)');
    const position = { document: doc.index, line: doc.line };
    if (typeof obj.apiVersion === 'string' && obj.apiVersion.split('/')[0] === TEMPLATE_GROUP) out.push({ ...parseTemplateAt(obj, file, where), position });
    else if (isConstraintObject(obj)) out.push({ ...parseConstraintAt(obj, file, where), position });
    else if (options.sync && isSyncObject(obj)) options.sync.push({ ...parseSyncConfiguration(obj, file, where), position });
    else
      throw sourceInvalid(
        where,
        `apiVersion ${JSON.stringify(obj.apiVersion ?? '')} kind ${JSON.stringify(obj.kind ?? '')} is neither a ConstraintTemplate (${TEMPLATE_VERSIONS.map((v) => `${TEMPLATE_GROUP}/${v}`).join(', ')}) nor a Constraint (constraints.gatekeeper.sh/v1beta1, v1alpha1)`,
      );
  }
  return out;
}

/** `file (document N, line L)`, or the file alone when the position is not known. */
export function locate(file: string, position: DocumentPosition | undefined): string {
  return position ? `${file} (document ${position.document}, line ${position.line})` : file;
}

/** True for a ConstraintTemplate of the model (a Constraint has an id). */
export function isConstraintTemplate(o: ConstraintTemplate | Constraint): o is ConstraintTemplate {
  return !('id' in o);
}
