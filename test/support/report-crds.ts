// The report CRDs of manifests/base/crds/ as ajv validators: a built report must be an object
// the API server would store as sent (its structural schema accepts it, nothing to prune).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const DIR = 'manifests/base/crds';

interface Crd {
  spec: { names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[]; group: string };
}

/** The CRD schema as JSON Schema: x-kubernetes-* markers dropped; unknown fields refused, as pruning would drop them. */
function jsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-') || key === 'description') continue;
    if (key === 'properties') out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonSchema(v)]));
    else out[key] = jsonSchema(value);
  }
  const s = schema as Record<string, unknown>;
  if (s.type === 'object' && s.properties && !s['x-kubernetes-preserve-unknown-fields'] && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** "<apiVersion> <kind>" -> validator. */
export function reportValidators(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validators = new Map<string, ValidateFunction>();
  for (const file of ['openreports.io_reports.yaml', 'openreports.io_clusterreports.yaml', 'wgpolicyk8s.io_policyreports.yaml', 'wgpolicyk8s.io_clusterpolicyreports.yaml']) {
    const crd = parse(readFileSync(join(DIR, file), 'utf8')) as Crd;
    for (const version of crd.spec.versions) {
      const schema = jsonSchema(version.schema.openAPIV3Schema) as Record<string, unknown>;
      // metadata is the API server's (ObjectMeta); the CRD leaves it open.
      (schema.properties as Record<string, unknown>).metadata = { type: 'object' };
      validators.set(`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`, ajv.compile(schema));
    }
  }
  return validators;
}
