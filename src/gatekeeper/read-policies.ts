// Reads the Gatekeeper objects of a policy directory (layout in docs/gatekeeper.md, "Policy
// directory layout"):
//   gatekeeper/<folder>/template.yaml         one ConstraintTemplate
//   gatekeeper/<folder>/constraints/*.yaml    Constraints of that template's kind
//   gatekeeper/*.yaml                         templates and/or constraints, any number, and the
//                                             sync configuration (SyncSets, at most one Config)
// Anything else under gatekeeper/<folder>/ is ignored (a gatekeeper-library folder, with its
// suite.yaml, samples/ and kustomization.yaml, can be dropped in as is).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkGatekeeperObjects, type GatekeeperPolicies } from './check-objects.js';
import { isConstraintTemplate, locate, parseGatekeeperDocuments } from './parse-documents.js';
import type { SyncConfiguration } from './parse-sync-config.js';
import { sourceInvalid } from './source-invalid.js';
import type { Constraint, ConstraintTemplate } from './types.js';

const isYaml = (name: string): boolean => name.endsWith('.yaml') || name.endsWith('.yml');

export function readGatekeeperPolicies(policiesDir: string): GatekeeperPolicies {
  const root = join(policiesDir, 'gatekeeper');
  if (!existsSync(root)) return { templates: [], constraints: [] };
  if (!statSync(root).isDirectory()) throw sourceInvalid(root, 'must be a directory of Gatekeeper templates and constraints');
  const objects: (ConstraintTemplate | Constraint)[] = [];
  const sync: SyncConfiguration[] = [];
  for (const entry of sortedEntries(root).filter((e) => !e.startsWith('.'))) {
    const path = join(root, entry);
    if (statSync(path).isDirectory()) objects.push(...readTemplateFolder(path));
    else if (isYaml(entry)) objects.push(...parseGatekeeperDocuments(readFileSync(path, 'utf8'), path, { sync }));
  }
  const configs = sync.filter((s) => s.kind === 'Config');
  // As gator sync test: "multiple configs found; Config is a singleton resource".
  if (configs.length > 1) throw sourceInvalid(locate(configs[1]?.file ?? root, configs[1]?.position), `a second Config (${locate(configs[0]?.file ?? root, configs[0]?.position)} is one): Config is a singleton resource`);
  const checked = checkGatekeeperObjects(objects);
  return sync.length > 0 ? { ...checked, sync } : checked;
}

function readTemplateFolder(folder: string): (ConstraintTemplate | Constraint)[] {
  const templateFile = join(folder, 'template.yaml');
  if (!existsSync(templateFile)) throw sourceInvalid(folder, 'a template folder needs a template.yaml holding its ConstraintTemplate');
  const inTemplateFile = parseGatekeeperDocuments(readFileSync(templateFile, 'utf8'), templateFile);
  const [template, ...rest] = inTemplateFile;
  if (!template || rest.length > 0 || !isConstraintTemplate(template))
    throw sourceInvalid(templateFile, `must hold exactly one ConstraintTemplate (it holds ${inTemplateFile.length} objects); put constraints under constraints/`);
  const constraintsDir = join(folder, 'constraints');
  const constraints: Constraint[] = [];
  if (existsSync(constraintsDir) && statSync(constraintsDir).isDirectory()) {
    for (const entry of sortedEntries(constraintsDir).filter(isYaml)) {
      const file = join(constraintsDir, entry);
      for (const o of parseGatekeeperDocuments(readFileSync(file, 'utf8'), file)) {
        if (isConstraintTemplate(o)) throw sourceInvalid(file, `ConstraintTemplate ${o.name}: a constraints/ file holds constraints only; the template goes in ${templateFile}`);
        if (o.kind !== template.kind) throw sourceInvalid(`${locate(file, o.position)}: ${o.id}`, `a constraint under ${folder}/constraints must be of its template's kind ${template.kind}`);
        constraints.push(o);
      }
    }
  }
  return [template, ...constraints];
}

function sortedEntries(dir: string): string[] {
  return readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
