// PLACEHOLDER until the Gatekeeper object parser lands (another helper writes the real one
// at this path with this signature); just enough for `bouncer verify` and its tests.
import { parseAllDocuments } from 'yaml';
import { BouncerError } from '../errors/errors.js';
import { parseConstraint } from './parse-constraint.js';
import type { Constraint, ConstraintTemplate } from './types.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseGatekeeperDocuments(text: string, file: string): (ConstraintTemplate | Constraint)[] {
  const out: (ConstraintTemplate | Constraint)[] = [];
  for (const doc of parseAllDocuments(text)) {
    const obj: unknown = doc.toJS();
    if (obj === null || obj === undefined) continue;
    if (!isObject(obj)) throw new BouncerError('POLICY_SOURCE_INVALID', `${file}: not a Kubernetes object`);
    const group = typeof obj['apiVersion'] === 'string' ? obj['apiVersion'].split('/')[0] : '';
    if (group === 'templates.gatekeeper.sh') out.push(parseTemplate(obj, file));
    else if (group === 'constraints.gatekeeper.sh') out.push(parseConstraint(obj, file));
    else throw new BouncerError('POLICY_SOURCE_INVALID', `${file}: neither a ConstraintTemplate nor a Constraint`);
  }
  return out;
}

export function isConstraintTemplate(o: ConstraintTemplate | Constraint): o is ConstraintTemplate {
  return !('id' in o);
}

function parseTemplate(obj: Json, file: string): ConstraintTemplate {
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const crd = isObject(spec['crd']) && isObject(spec['crd']['spec']) ? spec['crd']['spec'] : {};
  const names = isObject(crd['names']) ? crd['names'] : {};
  const validation = isObject(crd['validation']) ? crd['validation'] : {};
  const targets = Array.isArray(spec['targets']) ? spec['targets'] : [];
  const target = isObject(targets[0]) ? targets[0] : {};
  const code = Array.isArray(target['code']) ? target['code'].filter(isObject) : [];
  const regoCode = code.find((c) => c['engine'] === 'Rego');
  const source = isObject(regoCode?.['source']) ? regoCode['source'] : target;
  const rego = source['rego'];
  const kind = names['kind'];
  if (typeof kind !== 'string' || typeof rego !== 'string') {
    throw new BouncerError('POLICY_SOURCE_INVALID', `${file}: ConstraintTemplate needs spec.crd.spec.names.kind and Rego`);
  }
  const metadata = isObject(obj['metadata']) ? obj['metadata'] : {};
  const schema = validation['openAPIV3Schema'];
  return {
    name: typeof metadata['name'] === 'string' ? metadata['name'] : kind.toLowerCase(),
    kind,
    file,
    rego,
    libs: Array.isArray(source['libs']) ? source['libs'].filter((l): l is string => typeof l === 'string') : [],
    regoVersion: source['version'] === 'v1' ? 'v1' : 'v0',
    ...(isObject(schema) ? { parametersSchema: schema } : {}),
    source: obj,
  };
}
