// Checks a constraint's spec.parameters against its template's schema the way the API server
// would store the constraint, then validates it as Gatekeeper does (frameworks
// constraint/pkg/client/crds/validate.go ValidateCR, template_client.go ApplyDefaultParams):
//  1. a field the schema does not know (not in properties, no additionalProperties, no
//     x-kubernetes-preserve-unknown-fields) is an error: the API server would prune it, so the
//     policy would never see it (Gatekeeper's own validation reports it as "unknown fields");
//  2. a null where the schema is not nullable and has no default is an error (the API server
//     would drop it); with a default, the default replaces it;
//  3. defaults are applied as the API server applies them (structural defaulting);
//  4. the result is validated with ajv against the schema, Kubernetes extensions translated:
//     nullable → null allowed, x-kubernetes-int-or-string → integer or string, OpenAPI's boolean
//     exclusiveMinimum/Maximum → JSON Schema's numeric ones; other x-kubernetes-* keywords and
//     `format` are not checked.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { effectiveParametersSchema, fieldPart, isPlainObject, type Schema } from './parameters-schema.js';
import { sourceInvalid } from './source-invalid.js';
import type { ConstraintTemplate } from './types.js';

const PRESERVE = 'x-kubernetes-preserve-unknown-fields';

export interface ParametersChecker {
  /** Compiles the template's schema (once per template); throws when ajv cannot compile it. */
  compile(template: ConstraintTemplate): void;
  /** spec.parameters checked and defaulted; `where` names the constraint for messages. */
  check(template: ConstraintTemplate, parameters: unknown, where: string): Record<string, unknown>;
}

/** A checker holding one ajv instance and the templates' compiled schemas; one per build. */
export function createParametersChecker(): ParametersChecker {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const compiled = new Map<ConstraintTemplate, ValidateFunction | undefined>();
  const validatorFor = (template: ConstraintTemplate): ValidateFunction | undefined => {
    if (!compiled.has(template)) {
      const schema = effectiveParametersSchema(template);
      try {
        compiled.set(template, schema === undefined ? undefined : ajv.compile(toJsonSchema(schema)));
      } catch (err) {
        throw sourceInvalid(`${template.file}: ConstraintTemplate ${template.name}`, `spec.crd.spec.validation.openAPIV3Schema is not a valid schema: ${(err as Error).message}`);
      }
    }
    return compiled.get(template);
  };
  return {
    compile: (template) => void validatorFor(template),
    check(template, raw, where) {
      const validate = validatorFor(template);
      const schema = effectiveParametersSchema(template);
      if (raw === undefined || raw === null) {
        if (schema && isPlainObject(schema.default)) raw = schema.default;
        else return {};
      }
      if (!isPlainObject(raw)) throw sourceInvalid(where, `spec.parameters must be an object, not ${JSON.stringify(raw)}`);
      if (schema === undefined || validate === undefined) {
        if (Object.keys(raw).length === 0) return {};
        throw sourceInvalid(
          where,
          `spec.parameters: the ConstraintTemplate ${template.name} (${template.file}) declares no parameters (no spec.crd.spec.validation.openAPIV3Schema), so the API server would drop spec.parameters`,
        );
      }
      const value = structuredClone(raw);
      const dropped: string[] = [];
      droppedFields(value, schema, 'spec.parameters', dropped);
      if (dropped.length > 0) throw sourceInvalid(where, dropped.join('; '));
      applyDefaults(value, schema);
      if (!validate(value)) throw sourceInvalid(where, (validate.errors ?? []).map(describeError).join('; '));
      return value;
    },
  };
}

/** Collects what the API server would prune: unknown fields, and non-nullable nulls without a default. */
function droppedFields(value: unknown, schema: Schema, path: string, out: string[]): void {
  if (Array.isArray(value)) {
    if (isPlainObject(schema.items)) value.forEach((v, i) => droppedFields(v, schema.items as Schema, `${path}[${i}]`, out));
    return;
  }
  if (!isPlainObject(value) || (schema.type !== undefined && schema.type !== 'object')) return;
  const properties = isPlainObject(schema.properties) ? schema.properties : {};
  const additional = schema.additionalProperties;
  for (const [key, v] of Object.entries(value)) {
    const at = `${path}${fieldPart(key)}`;
    const sub = (Object.hasOwn(properties, key) ? properties[key] : isPlainObject(additional) ? additional : undefined) as Schema | undefined;
    if (sub === undefined) {
      if (schema[PRESERVE] !== true && additional !== true)
        out.push(`${at} is not in the template's parameters schema: the API server would drop the field (declare it, or mark its parent x-kubernetes-preserve-unknown-fields)`);
    } else if (v === null && sub.nullable !== true) {
      if (sub.default === undefined) out.push(`${at} is null and its schema is not nullable: the API server would drop the field`);
    } else {
      droppedFields(v, sub, at, out);
    }
  }
}

/** Structural defaulting (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting). */
function applyDefaults(value: unknown, schema: Schema): void {
  if (Array.isArray(value)) {
    if (isPlainObject(schema.items)) for (const v of value) applyDefaults(v, schema.items);
    return;
  }
  if (!isPlainObject(value)) return;
  const properties = isPlainObject(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
  for (const [key, sub] of Object.entries(properties)) {
    const missing = !Object.hasOwn(value, key) || (value[key] === null && sub.nullable !== true);
    if (missing && sub.default !== undefined) value[key] = structuredClone(sub.default);
  }
  for (const [key, v] of Object.entries(value)) {
    const sub = Object.hasOwn(properties, key) ? properties[key] : isPlainObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
    if (sub) applyDefaults(v, sub);
  }
}

/** The Kubernetes OpenAPI v3 schema as a JSON Schema (draft-07) that ajv checks. */
function toJsonSchema(node: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const sub = (v: unknown): unknown => (isPlainObject(v) ? toJsonSchema(v) : v);
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-kubernetes-') || k === 'nullable') continue;
    if (k === 'properties' || k === 'patternProperties') out[k] = isPlainObject(v) ? Object.fromEntries(Object.entries(v).map(([n, s]) => [n, sub(s)])) : v;
    else if (k === 'items') out[k] = Array.isArray(v) ? v.map(sub) : sub(v);
    else if (k === 'additionalProperties' || k === 'not') out[k] = sub(v);
    else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') out[k] = Array.isArray(v) ? v.map(sub) : v;
    else out[k] = v;
  }
  // OpenAPI v3.0 (draft-04) writes exclusive bounds as booleans beside maximum/minimum.
  for (const [exclusive, bound] of [
    ['exclusiveMaximum', 'maximum'],
    ['exclusiveMinimum', 'minimum'],
  ] as const) {
    if (typeof out[exclusive] !== 'boolean') continue;
    if (out[exclusive] === true && typeof out[bound] === 'number') {
      out[exclusive] = out[bound];
      delete out[bound];
    } else {
      delete out[exclusive];
    }
  }
  if (node.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (node['x-kubernetes-int-or-string'] === true) out.allOf = [...(Array.isArray(out.allOf) ? out.allOf : []), { anyOf: [{ type: 'integer' }, { type: 'string' }] }];
  return out;
}

function describeError(e: ErrorObject): string {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : fieldPart(p)))
    .join('');
  const allowed = e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})` : '';
  return `spec.parameters${path} ${e.message ?? 'is invalid'}${allowed}`;
}
