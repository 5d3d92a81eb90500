// The review (`input.review`, without namespaceObject) a suite case evaluates, built as
// gator builds it:
//  - a plain object: gatekeeper pkg/target unstructuredToAdmissionRequest — kind from its
//    apiVersion/kind, name and namespace from its metadata, the object itself, and nothing
//    else: gator sets no operation (operation is ""), no uid, no userInfo, no resource. A
//    caller may give an operation (gator's AugmentedUnstructured.Operation); on DELETE the
//    object is the oldObject and, as setObjectOnDelete does, the object too;
//  - an AdmissionReview (kind AdmissionReview, group admission.k8s.io, any version): its
//    request, decoded strictly as gator does (validateAndReviewAdmissionReviewRequest: unknown
//    fields and wrong types are errors, object or oldObject must be present and carry a kind),
//    and on DELETE the oldObject (required) becomes the object.
// The result has the fields, defaults and omissions of Go's JSON encoding of
// admissionv1.AdmissionRequest, which is what the Rego driver hands templates.
import { BouncerError } from '../errors/errors.js';
import { goGroupVersion, goObjectIdentity } from './go-object.js';

export type CaseReview = Readonly<Record<string, unknown>>;

/** A case whose object cannot be reviewed; the case fails with this message (gator's wording). */
export class CaseReviewError extends BouncerError {
  constructor(message: string) {
    super('SUITE_INVALID', message);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isAdmissionReview(document: Json): boolean {
  return document['kind'] === 'AdmissionReview' && goGroupVersion(document['apiVersion']).group === 'admission.k8s.io';
}

/** The review of a case's object document (a plain object or an AdmissionReview). */
export function caseReview(document: Json, options: { operation?: string } = {}): CaseReview {
  return isAdmissionReview(document) ? reviewFromAdmissionReview(document) : reviewFromObject(document, options);
}

export function reviewFromObject(object: Json, options: { operation?: string } = {}): CaseReview {
  const { group, version, kind, name, namespace } = goObjectIdentity(object);
  const operation = options.operation ?? '';
  return request({
    kind: { group, version, kind },
    name,
    namespace,
    operation,
    object,
    oldObject: operation === 'DELETE' ? object : null,
  });
}

const STRING_FIELDS = ['uid', 'subResource', 'requestSubResource', 'name', 'namespace', 'operation'] as const;
const GVK = ['group', 'version', 'kind'];
const GVR = ['group', 'version', 'resource'];
const REQUEST_FIELDS = new Set([
  ...STRING_FIELDS, 'kind', 'resource', 'requestKind', 'requestResource', 'userInfo', 'object', 'oldObject', 'dryRun', 'options',
]);
const RESPONSE_FIELDS = new Set(['uid', 'allowed', 'status', 'patch', 'patchType', 'auditAnnotations', 'warnings']);

const invalidReview = (detail: string): CaseReviewError =>
  new CaseReviewError(`not a valid AdmissionReview object: unable to convert to an AdmissionReview object, error: ${detail}`);

export function reviewFromAdmissionReview(document: Json): CaseReview {
  checkFields(document, new Set(['apiVersion', 'kind', 'request', 'response']), '');
  const response = document['response'];
  if (response !== undefined && response !== null) {
    if (!isObject(response)) throw invalidReview('field "response" must be an object');
    checkFields(response, RESPONSE_FIELDS, 'response.');
  }
  const req = document['request'];
  if (req === undefined || req === null) {
    throw new CaseReviewError('missing an AdmissionRequest object: request did not actually pass in an AdmissionRequest');
  }
  if (!isObject(req)) throw invalidReview('field "request" must be an object');
  checkFields(req, REQUEST_FIELDS, 'request.');
  for (const field of STRING_FIELDS) stringField(req, field, 'request.');
  const object = present(req['object']);
  const oldObject = present(req['oldObject']);
  if (object === null && oldObject === null) {
    throw new CaseReviewError('no object or oldObject found to review: AdmissionRequest does not contain an "object" or "oldObject" to review');
  }
  for (const o of [object, oldObject]) if (o !== null) checkHasKind(o);
  const dryRun = present(req['dryRun']);
  if (dryRun !== null && typeof dryRun !== 'boolean') throw invalidReview('field "request.dryRun" must be a boolean');
  const operation = stringField(req, 'operation', 'request.');
  if (operation === 'DELETE' && oldObject === null) {
    throw new CaseReviewError(
      'admission.k8s.gatekeeper.sh: target.HandleReview failed for target "admission.k8s.gatekeeper.sh": oldObject cannot be nil for DELETE operations\n',
    );
  }
  const optional: Json = {};
  for (const [field, keys] of [['requestKind', GVK], ['requestResource', GVR]] as const) {
    if (present(req[field]) !== null) optional[field] = groupVersion(req, field, keys);
  }
  return request({
    uid: stringField(req, 'uid', 'request.'),
    kind: groupVersion(req, 'kind', GVK),
    resource: groupVersion(req, 'resource', GVR),
    subResource: stringField(req, 'subResource', 'request.'),
    ...optional,
    requestSubResource: stringField(req, 'requestSubResource', 'request.'),
    name: stringField(req, 'name', 'request.'),
    namespace: stringField(req, 'namespace', 'request.'),
    operation,
    userInfo: userInfo(req['userInfo']),
    object: operation === 'DELETE' ? oldObject : object,
    oldObject,
    ...(dryRun === null ? {} : { dryRun }),
    options: present(req['options']),
  });
}

/** Go's JSON of an AdmissionRequest: empty omitempty strings dropped, RawExtensions null when unset. */
function request(fields: Json): CaseReview {
  const out: Json = {
    uid: '',
    kind: { group: '', version: '', kind: '' },
    resource: { group: '', version: '', resource: '' },
  };
  for (const [key, value] of Object.entries(fields)) {
    if (['subResource', 'requestSubResource', 'name', 'namespace'].includes(key) && value === '') continue;
    out[key] = value;
  }
  out['operation'] ??= '';
  out['userInfo'] ??= {};
  out['object'] ??= null;
  out['oldObject'] ??= null;
  const options = out['options'] ?? null;
  delete out['options'];
  return { ...out, options };
}

const present = (v: unknown): unknown => (v === undefined ? null : v);

function checkFields(object: Json, allowed: ReadonlySet<string>, prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.has(key)) throw invalidReview(`strict decoding error: unknown field "${prefix}${key}"`);
  }
}

function stringField(object: Json, field: string, prefix: string): string {
  const value = present(object[field]);
  if (value === null) return '';
  if (typeof value !== 'string') throw invalidReview(`field "${prefix}${field}" must be a string`);
  return value;
}

function groupVersion(req: Json, field: string, keys: readonly string[]): Json {
  const value = present(req[field]);
  if (value !== null && !isObject(value)) throw invalidReview(`field "request.${field}" must be an object`);
  const object = (value ?? {}) as Json;
  checkFields(object, new Set(keys), `request.${field}.`);
  return Object.fromEntries(keys.map((k) => [k, stringField(object, k, `request.${field}.`)]));
}

function userInfo(value: unknown): Json {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidReview('field "request.userInfo" must be an object');
  checkFields(value, new Set(['username', 'uid', 'groups', 'extra']), 'request.userInfo.');
  const out: Json = {};
  for (const field of ['username', 'uid']) {
    const s = stringField(value, field, 'request.userInfo.');
    if (s !== '') out[field] = s;
  }
  const groups = stringList(value['groups'], 'request.userInfo.groups');
  if (groups.length > 0) out['groups'] = groups;
  const extra = present(value['extra']);
  if (extra !== null) {
    if (!isObject(extra)) throw invalidReview('field "request.userInfo.extra" must be an object');
    const entries = Object.entries(extra).map(([k, v]) => [k, v === null ? null : stringList(v, `request.userInfo.extra.${k}`)] as const);
    if (entries.length > 0) out['extra'] = Object.fromEntries(entries);
  }
  return out;
}

function stringList(value: unknown, path: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalidReview(`field "${path}" must be a list of strings`);
  return value as string[];
}

/** As unstructured.UnmarshalJSON, which gator calls on object and oldObject: a JSON object with a kind. */
function checkHasKind(value: unknown): void {
  if (!isObject(value)) {
    throw new CaseReviewError(`object or oldObject cannot be unmarshalled: json: cannot unmarshal ${goJsonType(value)} into Go value of type map[string]interface {}`);
  }
  if (typeof value['kind'] !== 'string' || value['kind'] === '') {
    throw new CaseReviewError(`object or oldObject cannot be unmarshalled: Object 'Kind' is missing in '${sortedJson(value)}'`);
  }
}

function goJsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  return typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'bool' : 'value';
}

/** Go's json.Marshal of a map: keys sorted, compact. */
export function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
