// Checked decoding of untrusted AdmissionReview bytes. Nothing past this point reads a
// field the API server did not send in the expected shape.
import { BouncerError } from '../errors/errors.js';
import {
  ADMISSION_API_VERSION,
  OPERATIONS,
  type AdmissionRequest,
  type AdmissionReview,
  type GroupVersionKind,
  type GroupVersionResource,
  type Operation,
  type UserInfo,
} from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string, uid?: string): BouncerError {
  return new BouncerError('REVIEW_INVALID', message, uid === undefined ? {} : { details: { uid } });
}

function optionalString(req: Json, field: string, uid: string): string | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`request.${field} must be a string`, uid);
  return value;
}

function gvk(value: unknown, field: string, uid: string): GroupVersionKind {
  if (!isObject(value) || typeof value.group !== 'string' || typeof value.version !== 'string' || typeof value.kind !== 'string' || value.kind === '') {
    throw invalid(`request.${field} must be {group, version, kind} strings`, uid);
  }
  return { group: value.group, version: value.version, kind: value.kind };
}

function gvr(value: unknown, uid: string): GroupVersionResource {
  if (!isObject(value) || typeof value.group !== 'string' || typeof value.version !== 'string' || typeof value.resource !== 'string' || value.resource === '') {
    throw invalid('request.resource must be {group, version, resource} strings', uid);
  }
  return { group: value.group, version: value.version, resource: value.resource };
}

function userInfo(value: unknown, uid: string): UserInfo {
  if (value === undefined) return {};
  if (!isObject(value)) throw invalid('request.userInfo must be an object', uid);
  const groups = value.groups;
  if (groups !== undefined && !(Array.isArray(groups) && groups.every((g) => typeof g === 'string'))) {
    throw invalid('request.userInfo.groups must be a list of strings', uid);
  }
  return {
    ...(typeof value.username === 'string' ? { username: value.username } : {}),
    ...(typeof value.uid === 'string' ? { uid: value.uid } : {}),
    ...(groups ? { groups: groups as string[] } : {}),
  };
}

function objectField(req: Json, field: 'object' | 'oldObject', uid: string): unknown {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid(`request.${field} must be an object or null`, uid);
  return value;
}

/** Parses JSON text; the error says so precisely instead of leaking a SyntaxError. */
export function parseJson(body: Uint8Array): unknown {
  if (body.byteLength === 0) throw new BouncerError('REVIEW_EMPTY', 'the request body is empty');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (cause) {
    throw new BouncerError('REVIEW_NOT_JSON', 'the request body is not valid UTF-8', { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BouncerError('REVIEW_NOT_JSON', `the request body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** The uid of a parsed body if it has one, so even a rejected review can be answered by uid. */
export function uidOf(parsed: unknown): string | undefined {
  if (!isObject(parsed) || !isObject(parsed.request)) return undefined;
  const uid = parsed.request.uid;
  return typeof uid === 'string' && uid.length > 0 ? uid : undefined;
}

/** Checks a parsed body is an admission.k8s.io/v1 AdmissionReview with a usable request. */
export function checkReview(parsed: unknown): AdmissionReview {
  if (!isObject(parsed)) throw invalid('the body must be a JSON object');
  if (parsed.kind !== 'AdmissionReview' || parsed.apiVersion !== ADMISSION_API_VERSION) {
    throw new BouncerError(
      'REVIEW_UNSUPPORTED_VERSION',
      `expected apiVersion ${ADMISSION_API_VERSION} kind AdmissionReview, got ${String(parsed.apiVersion)} ${String(parsed.kind)}`,
      uidOf(parsed) === undefined ? {} : { details: { uid: uidOf(parsed) } },
    );
  }
  const req = parsed.request;
  if (!isObject(req)) throw invalid('request must be an object');
  const uid = req.uid;
  if (typeof uid !== 'string' || uid.length === 0) throw invalid('request.uid must be a non-empty string');
  const operation = req.operation;
  if (typeof operation !== 'string' || !OPERATIONS.includes(operation as Operation)) {
    throw invalid(`request.operation must be one of ${OPERATIONS.join(', ')}`, uid);
  }
  if (req.dryRun !== undefined && req.dryRun !== null && typeof req.dryRun !== 'boolean') throw invalid('request.dryRun must be a boolean', uid);
  const request: AdmissionRequest = {
    uid,
    kind: gvk(req.kind, 'kind', uid),
    resource: gvr(req.resource, uid),
    operation: operation as Operation,
    userInfo: userInfo(req.userInfo, uid),
    object: objectField(req, 'object', uid),
    oldObject: objectField(req, 'oldObject', uid),
    ...(req.requestKind ? { requestKind: gvk(req.requestKind, 'requestKind', uid) } : {}),
    subResource: optionalString(req, 'subResource', uid),
    name: optionalString(req, 'name', uid),
    namespace: optionalString(req, 'namespace', uid),
    dryRun: req.dryRun === true,
  };
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', request };
}

/** Bytes → checked review. The raw bytes stay the policy input (no re-stringify, exact int64). */
export function decodeReview(body: Uint8Array): AdmissionReview {
  return checkReview(parseJson(body));
}
