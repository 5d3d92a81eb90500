// Stages a policy directory's Gatekeeper objects into the build tree, beside the native
// policies, so one `opa build` compiles both into one policy.wasm:
//   <stage>/gatekeeper/<template>/*.rego      each template's Rego, rewritten into its own
//                                             package tree (src/gatekeeper/rewrite-template.ts)
//   <stage>/bouncer/gatekeeper/<template>.rego the generated entrypoint (gatekeeper-entry.ts)
//   <stage>/bouncer/constraints/data.json     every constraint's parameters, by kind and name
// and returns what the manifest records: the templates, the constraints (match, actions), the
// Rego version of each staged file (templates are Rego v0 unless they say v1), the entrypoints,
// where each staged file came from, so OPA's messages name the template's file, and the staged
// modules, which the build parses for what the templates read (rego-reads.ts).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BundledConstraint, BundledTemplate, GatekeeperManifest } from '../bundles/gatekeeper-manifest.js';
import { regoFields } from '../gatekeeper/rego-fields.js';
import { rewriteTemplate } from '../gatekeeper/rewrite-template.js';
import type { Constraint, ConstraintTemplate } from '../gatekeeper/types.js';
import { templateEntryModule, templateEntrypoint } from './gatekeeper-entry.js';

/** Operations a template's constraints are evaluated for when the template names none: Gatekeeper's webhook default. */
export const DEFAULT_TEMPLATE_OPERATIONS = ['CREATE', 'UPDATE'] as const;

export interface StagedGatekeeper {
  readonly manifest: GatekeeperManifest;
  /** `/path` in the bundle → 0 for Rego v0 files (the manifest's file_rego_versions). */
  readonly regoVersions: Readonly<Record<string, number>>;
  readonly entrypoints: readonly string[];
  /** Staged file (relative to the stage) → what to call it in a message. */
  readonly origins: ReadonlyMap<string, string>;
  /** Each template's staged Rego modules (entry first, then libs), for the build's reading of them. */
  readonly modules: readonly StagedTemplateModule[];
}

export interface StagedTemplateModule {
  readonly template: ConstraintTemplate;
  /** Relative to the stage. */
  readonly path: string;
  readonly regoVersion: 'v0' | 'v1';
  /** What to call it in a message: `<file> <field>` (the template's field holding this Rego). */
  readonly name: string;
}

/** A digest of the Gatekeeper sources: the bundle's gatekeeper key (see gatekeeper-manifest.ts). */
function keyOf(templates: readonly ConstraintTemplate[], constraints: readonly Constraint[]): string {
  const hash = createHash('sha256');
  for (const t of templates) hash.update(JSON.stringify([t.name, t.rego, t.libs, t.regoVersion])).update('\u0000');
  for (const c of constraints) hash.update(JSON.stringify([c.id, c.parameters, c.match, c.enforcementAction, c.scopedEnforcementActions])).update('\u0000');
  return hash.digest('hex').slice(0, 16);
}

function bundled(c: Constraint): BundledConstraint {
  return { kind: c.kind, name: c.name, id: c.id, enforcementAction: c.enforcementAction, scopedEnforcementActions: c.scopedEnforcementActions, match: c.match };
}

/** Writes the templates and constraints into `stageDir`; undefined when there are none. */
export function stageGatekeeper(stageDir: string, policies: { templates: readonly ConstraintTemplate[]; constraints: readonly Constraint[] }): StagedGatekeeper | undefined {
  const { templates, constraints } = policies;
  if (templates.length === 0) return undefined;
  const key = keyOf(templates, constraints);
  const regoVersions: Record<string, number> = {};
  const origins = new Map<string, string>();
  const entries: BundledTemplate[] = [];
  const modules: StagedTemplateModule[] = [];
  for (const template of [...templates].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const rewritten = rewriteTemplate(template);
    const fields = regoFields(template.source);
    rewritten.modules.forEach((m, i) => {
      const path = join(stageDir, m.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, m.text);
      if (m.regoVersion === 'v0') regoVersions[`/${m.path}`] = 0;
      origins.set(m.path, `${template.file} (ConstraintTemplate ${template.name}, ${i === 0 ? 'rego' : `libs[${i - 1}]`})`);
      modules.push({ template, path: m.path, regoVersion: m.regoVersion, name: `${template.file} ${i === 0 ? fields.rego : `${fields.libs}[${i - 1}]`}` });
    });
    const entry = join('bouncer', 'gatekeeper', `${template.name}.rego`);
    mkdirSync(dirname(join(stageDir, entry)), { recursive: true });
    writeFileSync(join(stageDir, entry), templateEntryModule(template.name, template.kind, key));
    origins.set(entry, `the entrypoint generated for ConstraintTemplate ${template.name} (${template.file})`);
    entries.push({
      name: template.name,
      kind: template.kind,
      entrypoint: templateEntrypoint(template.name),
      operations: [...(template.operations ?? DEFAULT_TEMPLATE_OPERATIONS)],
    });
  }
  const parameters: Record<string, Record<string, unknown>> = {};
  for (const c of constraints) (parameters[c.kind] ??= {})[c.name] = c.parameters;
  mkdirSync(join(stageDir, 'bouncer', 'constraints'), { recursive: true });
  writeFileSync(join(stageDir, 'bouncer', 'constraints', 'data.json'), JSON.stringify(parameters));
  return {
    manifest: { key, templates: entries, constraints: [...constraints].map(bundled).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) },
    regoVersions,
    entrypoints: entries.map((t) => t.entrypoint),
    origins,
    modules,
  };
}

/** OPA's output with staged file paths replaced by the template files they came from. */
export function nameOrigins(text: string, stageDir: string, origins: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [staged, origin] of origins) out = out.split(join(stageDir, staged)).join(origin).split(staged).join(origin);
  return out;
}
