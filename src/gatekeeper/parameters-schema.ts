// The schema of a constraint's spec.parameters: the template's
// spec.crd.spec.validation.openAPIV3Schema, a Kubernetes OpenAPI v3 schema, checked the way
// the API server checks a CRD's schema, and widened the way Gatekeeper widens it for
// legacySchema templates (frameworks constraint/pkg/apis/templates/*/conversion.go,
// constraint/pkg/schema/transform.go).
import { sourceInvalid } from './source-invalid.js';
import type { ConstraintTemplate } from './types.js';

export type Schema = Readonly<Record<string, unknown>>;

const TYPES = ['object', 'array', 'string', 'integer', 'number', 'boolean'];
const PRESERVE = 'x-kubernetes-preserve-unknown-fields';
const INT_OR_STRING = 'x-kubernetes-int-or-string';

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the template's schema node by node: every node is an object with a known `type`;
 * unless `legacy`, the schema is structural as the API server requires of a v1 CRD
 * (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema):
 * every node has a type (or x-kubernetes-int-or-string / x-kubernetes-preserve-unknown-fields),
 * arrays have items, properties and additionalProperties exclude each other.
 */
export function checkParametersSchema(schema: unknown, legacy: boolean, where: string): Schema {
  const walk = (node: unknown, path: string): void => {
    if (!isPlainObject(node)) throw sourceInvalid(where, `${path} must be a schema (an object), not ${JSON.stringify(node)}`);
    const type = node.type;
    if (type !== undefined && (typeof type !== 'string' || !TYPES.includes(type)))
      throw sourceInvalid(where, `${path}.type ${JSON.stringify(type)} is not one of ${TYPES.join(', ')}`);
    const typeless = node[PRESERVE] === true || node[INT_OR_STRING] === true;
    if (!legacy && type === undefined && !typeless)
      throw sourceInvalid(where, `${path}.type is missing: a non-legacy schema must be structural, with a type on every node (as the API server requires of the constraint's CRD)`);
    if (!legacy && type === 'array' && node.items === undefined) throw sourceInvalid(where, `${path}.items is missing: a structural schema gives the items of every array`);
    if (node.properties !== undefined && node.additionalProperties !== undefined && node.additionalProperties !== true)
      throw sourceInvalid(where, `${path}: properties and additionalProperties exclude each other in a structural schema`);
    if (node.properties !== undefined) {
      if (!isPlainObject(node.properties)) throw sourceInvalid(where, `${path}.properties must be an object of schemas`);
      for (const [k, v] of Object.entries(node.properties)) walk(v, `${path}.properties${fieldPart(k)}`);
    }
    if (node.items !== undefined) {
      if (Array.isArray(node.items)) throw sourceInvalid(where, `${path}.items must be one schema; a list of item schemas is not structural`);
      walk(node.items, `${path}.items`);
    }
    if (isPlainObject(node.additionalProperties)) walk(node.additionalProperties, `${path}.additionalProperties`);
  };
  walk(schema, 'spec.crd.spec.validation.openAPIV3Schema');
  return schema as Schema;
}

/**
 * The schema spec.parameters is checked against: the template's, with
 * x-kubernetes-preserve-unknown-fields on every object (and untyped) node and on the items of
 * item-less arrays when the template is legacySchema (Gatekeeper's AddPreserveUnknownFields);
 * `{x-kubernetes-preserve-unknown-fields: true}` for a legacySchema template without one;
 * undefined (no parameters at all) for a non-legacy template without one, whose constraint
 * CRD then has no spec.parameters.
 */
export function effectiveParametersSchema(template: Pick<ConstraintTemplate, 'parametersSchema' | 'legacySchema'>): Schema | undefined {
  const schema = template.parametersSchema;
  if (!template.legacySchema) return schema;
  return schema === undefined ? { [PRESERVE]: true } : preserveUnknownFields(schema);
}

function preserveUnknownFields(node: Schema): Schema {
  const out: Record<string, unknown> = { ...node };
  if (node.type === undefined || node.type === 'object') out[PRESERVE] = true;
  if (node.type === 'array' && !isPlainObject(node.items)) out.items = { [PRESERVE]: true };
  if (isPlainObject(node.properties)) out.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, preserveUnknownFields(v as Schema)]));
  if (isPlainObject(node.items)) out.items = preserveUnknownFields(node.items);
  if (isPlainObject(node.additionalProperties)) out.additionalProperties = preserveUnknownFields(node.additionalProperties);
  return out;
}

/** `.name`, or `["na.me"]` for a key that is not a plain identifier. */
export function fieldPart(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
