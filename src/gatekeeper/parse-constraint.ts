// PLACEHOLDER until the Gatekeeper object parser lands (another helper writes the real one
// at this path with this signature); just enough for `bouncer verify` and its tests: with
// templates, the kind must be one of theirs and spec.parameters must have the schema's types.
import { BouncerError } from '../errors/errors.js';
import type { Constraint, ConstraintMatch, ConstraintTemplate } from './types.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseConstraint(obj: Readonly<Record<string, unknown>>, file: string, templates?: readonly ConstraintTemplate[]): Constraint {
  const kind = obj['kind'];
  const metadata = isObject(obj['metadata']) ? obj['metadata'] : {};
  const name = metadata['name'];
  if (typeof kind !== 'string' || typeof name !== 'string') throw new BouncerError('POLICY_SOURCE_INVALID', `${file}: Constraint needs kind and metadata.name`);
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const parameters = isObject(spec['parameters']) ? spec['parameters'] : {};
  if (templates) {
    const template = templates.find((t) => t.kind === kind);
    if (!template) throw new BouncerError('POLICY_SOURCE_INVALID', `${file}: no template for kind ${kind}`);
    const problem = template.parametersSchema && typeProblem(parameters, template.parametersSchema, 'spec.parameters');
    if (problem) throw new BouncerError('POLICY_SOURCE_INVALID', `${file}: ${kind}/${name}: ${problem}`);
  }
  const action = spec['enforcementAction'];
  return {
    kind,
    name,
    id: `${kind}/${name}`,
    file,
    enforcementAction: action === 'warn' || action === 'dryrun' || action === 'scoped' ? action : 'deny',
    scopedEnforcementActions: [],
    match: (isObject(spec['match']) ? spec['match'] : {}) as ConstraintMatch,
    parameters,
    source: obj,
  };
}

function typeProblem(value: unknown, schema: Json, path: string): string | undefined {
  const type = schema['type'];
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value;
  if (typeof type === 'string' && type !== actual && !(type === 'number' && actual === 'integer')) return `${path} must be ${type}`;
  if (Array.isArray(value) && isObject(schema['items'])) {
    for (const [i, v] of value.entries()) {
      const p = typeProblem(v, schema['items'], `${path}[${i}]`);
      if (p) return p;
    }
  }
  if (isObject(value) && isObject(schema['properties'])) {
    for (const [k, v] of Object.entries(value)) {
      const s = schema['properties'][k];
      const p = isObject(s) ? typeProblem(v, s, `${path}.${k}`) : undefined;
      if (p) return p;
    }
  }
  return undefined;
}
