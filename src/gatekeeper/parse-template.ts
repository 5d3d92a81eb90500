// A ConstraintTemplate object (templates.gatekeeper.sh v1, v1beta1, v1alpha1), checked as
// Gatekeeper checks it when it is added (frameworks constraint/pkg/client/client.go
// validateTemplateMetadata, getTargetName, crds/validate.go; drivers/rego/compilers.go), and
// reduced to the model of types.ts.
import { OPERATIONS, type Operation } from '../admission/types.js';
import { isDns1035Label, isDns1123Subdomain } from './k8s-names.js';
import { checkParametersSchema, isPlainObject } from './parameters-schema.js';
import { rewriteTemplate } from './rewrite-template.js';
import { sourceInvalid } from './source-invalid.js';
import { readSyncRequirements, SYNC_ANNOTATION } from './sync-requirements.js';
import type { ConstraintTemplate, RegoVersion } from './types.js';

export const TEMPLATE_GROUP = 'templates.gatekeeper.sh';
export const TEMPLATE_VERSIONS = ['v1', 'v1beta1', 'v1alpha1'] as const;
/** The one target Gatekeeper's admission webhook (and bouncer) enforces. */
export const ADMISSION_TARGET = 'admission.k8s.gatekeeper.sh';
const REGO_ENGINE = 'Rego';
const CEL_ENGINE = 'K8sNativeValidation';

export function parseConstraintTemplate(obj: Readonly<Record<string, unknown>>, file: string): ConstraintTemplate {
  return parseTemplateAt(obj, file, file);
}

/** As parseConstraintTemplate; `where` locates the object for messages (file, document, line). */
export function parseTemplateAt(obj: Readonly<Record<string, unknown>>, file: string, where: string): ConstraintTemplate {
  const version = templateVersion(obj, where);
  const metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') throw sourceInvalid(where, 'ConstraintTemplate: metadata.name is missing');
  if (!isDns1123Subdomain(name)) throw sourceInvalid(where, `ConstraintTemplate ${JSON.stringify(name)}: metadata.name is not a valid name (a DNS-1123 subdomain: lowercase letters, digits, '-' and '.')`);
  const at = `${where}: ConstraintTemplate ${name}`;
  const spec = isPlainObject(obj.spec) ? obj.spec : undefined;
  if (!spec) throw sourceInvalid(at, 'spec is missing');
  const crdSpec = isPlainObject(spec.crd) && isPlainObject(spec.crd.spec) ? spec.crd.spec : {};
  const kind = isPlainObject(crdSpec.names) ? crdSpec.names.kind : undefined;
  if (typeof kind !== 'string' || kind === '') throw sourceInvalid(at, 'spec.crd.spec.names.kind is missing: it names the kind of the constraints');
  if (!isDns1035Label(kind.toLowerCase()))
    throw sourceInvalid(at, `spec.crd.spec.names.kind ${JSON.stringify(kind)}: its lowercase must be a DNS-1035 label (a letter, then letters, digits or '-'), as the API server requires of a CRD kind`);
  if (name !== kind.toLowerCase())
    throw sourceInvalid(at, `metadata.name must be the lowercase of spec.crd.spec.names.kind ${JSON.stringify(kind)}, that is ${JSON.stringify(kind.toLowerCase())}, as Gatekeeper requires`);

  const target = onlyTarget(spec.targets, at);
  const { rego, libs, regoVersion } = regoSource(target, at);
  const { parametersSchema, legacySchema } = validation(crdSpec.validation, version, at);
  const operations = targetOperations(target.operations, at);
  const annotations = metadata.annotations;
  const syncRequirements = isPlainObject(annotations) && SYNC_ANNOTATION in annotations ? readSyncRequirements(annotations, at) : undefined;
  const template: ConstraintTemplate = {
    name,
    kind,
    file,
    rego,
    libs,
    regoVersion,
    legacySchema,
    source: obj,
    ...(parametersSchema ? { parametersSchema } : {}),
    ...(operations ? { operations } : {}),
    ...(syncRequirements ? { syncRequirements } : {}),
  };
  // The Rego checks (packages, refs, imports, `violation`) belong to the template too.
  rewriteTemplate({ ...template, file: where });
  return template;
}

function templateVersion(obj: Readonly<Record<string, unknown>>, where: string): (typeof TEMPLATE_VERSIONS)[number] {
  const [group, version] = typeof obj.apiVersion === 'string' ? obj.apiVersion.split('/') : [];
  const known = TEMPLATE_VERSIONS.find((v) => v === version);
  if (group !== TEMPLATE_GROUP || !known || obj.kind !== 'ConstraintTemplate')
    throw sourceInvalid(where, `not a ConstraintTemplate (apiVersion ${TEMPLATE_VERSIONS.map((v) => `${TEMPLATE_GROUP}/${v}`).join(', ')}; kind ConstraintTemplate)`);
  return known;
}

function onlyTarget(targets: unknown, at: string): Record<string, unknown> {
  if (!Array.isArray(targets) || targets.length === 0) throw sourceInvalid(at, 'spec.targets is missing: a ConstraintTemplate must specify exactly one target');
  if (targets.length > 1) throw sourceInvalid(at, `spec.targets has ${targets.length} targets: Gatekeeper supports exactly one (multi-target templates are not supported)`);
  const [target] = targets as unknown[];
  if (!isPlainObject(target)) throw sourceInvalid(at, 'spec.targets[0] must be an object');
  if (target.target !== ADMISSION_TARGET)
    throw sourceInvalid(at, `spec.targets[0].target is ${JSON.stringify(target.target ?? '')}: the only target bouncer enforces is ${ADMISSION_TARGET}`);
  return target;
}

/**
 * The Rego, as Gatekeeper finds it: a non-empty legacy targets[0].rego (with libs) replaces
 * the source of the code[] `Rego` entry and is Rego v0 (the v1beta1→internal conversion sets
 * no version); otherwise the first code[] entry with engine Rego, version from
 * source.version (schema.GetSource: "v1", else v0).
 */
function regoSource(target: Record<string, unknown>, at: string): { rego: string; libs: string[]; regoVersion: RegoVersion } {
  if (typeof target.rego === 'string' && target.rego !== '') return { rego: target.rego, libs: stringList(target.libs, `${at}: spec.targets[0].libs`), regoVersion: 'v0' };
  if (target.code !== undefined && !Array.isArray(target.code)) throw sourceInvalid(at, 'spec.targets[0].code must be a list');
  const code = (target.code ?? []) as unknown[];
  const index = code.findIndex((c) => isPlainObject(c) && c.engine === REGO_ENGINE);
  if (index < 0) {
    if (code.some((c) => isPlainObject(c) && c.engine === CEL_ENGINE))
      throw sourceInvalid(
        at,
        `spec.targets[0].code has only a ${CEL_ENGINE} (CEL) engine: bouncer runs the Rego engine only; add a Rego engine to code[] (where both exist, Rego is used, as with gator verify --enable-k8s-native-validation=false)`,
      );
    throw sourceInvalid(at, 'no Rego: neither spec.targets[0].rego nor a spec.targets[0].code[] entry with engine Rego');
  }
  const field = `spec.targets[0].code[${index}].source`;
  const source = (code[index] as Record<string, unknown>).source;
  if (!isPlainObject(source)) throw sourceInvalid(at, `${field} is missing`);
  if (typeof source.rego !== 'string' || source.rego === '') throw sourceInvalid(at, `${field}.rego is missing`);
  const version = source.version ?? '';
  // Gatekeeper reads any other value as v0; a typo would then fail to parse as v0, so say it here.
  if (version !== '' && version !== 'v0' && version !== 'v1') throw sourceInvalid(at, `${field}.version is ${JSON.stringify(version)}: it must be v0 or v1 (absent means v0)`);
  return { rego: source.rego, libs: stringList(source.libs, `${at}: ${field}.libs`), regoVersion: version === 'v1' ? 'v1' : 'v0' };
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw sourceInvalid(where, 'must be a list of Rego modules (strings)');
  return value as string[];
}

/** legacySchema defaults to true in v1beta1/v1alpha1 and false in v1 (kubebuilder defaults of each version). */
function validation(raw: unknown, version: string, at: string): { parametersSchema?: Record<string, unknown>; legacySchema: boolean } {
  const v = raw === undefined || raw === null ? {} : raw;
  if (!isPlainObject(v)) throw sourceInvalid(at, 'spec.crd.spec.validation must be an object');
  if (v.legacySchema !== undefined && typeof v.legacySchema !== 'boolean') throw sourceInvalid(at, 'spec.crd.spec.validation.legacySchema must be true or false');
  const legacySchema = typeof v.legacySchema === 'boolean' ? v.legacySchema : version !== 'v1';
  if (v.openAPIV3Schema === undefined || v.openAPIV3Schema === null) return { legacySchema };
  return { parametersSchema: checkParametersSchema(v.openAPIV3Schema, legacySchema, at), legacySchema };
}

function targetOperations(raw: unknown, at: string): Operation[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const known = [...OPERATIONS, '*'];
  if (!Array.isArray(raw) || raw.some((o) => typeof o !== 'string' || !known.includes(o)))
    throw sourceInvalid(at, `spec.targets[0].operations must be a list of ${known.join(', ')}`);
  return raw.includes('*') ? [...OPERATIONS] : [...new Set(raw as Operation[])];
}
