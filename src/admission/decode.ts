// Checked decoding of untrusted AdmissionReview bytes. Nothing past this point reads a
// field the API server did not send in the expected shape. From bytes, only the envelope is
// parsed up front; request.object and request.oldObject are parsed on first read (policies
// read the raw bytes inside WASM, so /validate rarely needs them in JavaScript).
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { BouncerError } from '../errors/errors.js';
import { CheckedRequest } from './checked-request.js';
import { MalformedJson, memberSpan, splitReview, splitReviewLoose, type SplitReview, type Span } from './envelope.js';
import {
  ADMISSION_API_VERSION,
  CONTEXT_MEMBER,
  OPERATIONS,
  type AdmissionReview,
  type GroupVersionKind,
  type GroupVersionResource,
  type Operation,
  type UserInfo,
} from './types.js';
import { parseJson } from '../json/parse-json.js';

const utf8 = new TextDecoder('utf-8');

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

function notJson(message: string, cause: unknown, uid?: string): BouncerError {
  return new BouncerError('REVIEW_NOT_JSON', `the request body is not valid JSON: ${message}`, { cause, ...(uid === undefined ? {} : { details: { uid } }) });
}

/** A parsed body: the envelope, and where request.object / request.oldObject sit in the bytes. */
export interface ParsedBody {
  /** The body parsed with request.object and request.oldObject replaced by null. */
  readonly value: unknown;
  readonly bytes: Uint8Array;
  readonly object?: Span;
  readonly oldObject?: Span;
  readonly uid?: Span;
  /**
   * Set when the body is outside the accepted JSON language (admission/strict-json.ts) but
   * its envelope could still be read: checkReview throws it, so the rejection is answered
   * as an AdmissionReview with the uid rather than a bare 400.
   */
  readonly malformed?: BouncerError;
}

function parsedSplit(body: Uint8Array, split: SplitReview): ParsedBody {
  const { object, oldObject, uid } = split;
  return { value: parseJson(split.envelope), bytes: body, ...(object ? { object } : {}), ...(oldObject ? { oldObject } : {}), ...(uid ? { uid } : {}) };
}

/**
 * Parses a body's envelope after checking the whole body is JSON both JavaScript and the
 * policy engine read alike; the error says precisely what is wrong instead of leaking a
 * SyntaxError. Throws when not even the envelope can be read; otherwise a malformed body
 * comes back with `malformed` set, for checkReview to throw with the uid.
 */
export function parseBody(body: Uint8Array): ParsedBody {
  if (body.byteLength === 0) throw new BouncerError('REVIEW_EMPTY', 'the request body is empty');
  if (!isUtf8(body)) throw new BouncerError('REVIEW_NOT_JSON', 'the request body is not valid UTF-8');
  let refused: MalformedJson;
  try {
    return parsedSplit(body, splitReview(body));
  } catch (cause) {
    if (!(cause instanceof MalformedJson)) throw cause;
    refused = cause;
  }
  let envelope: ParsedBody;
  try {
    envelope = parsedSplit(body, splitReviewLoose(body));
  } catch {
    throw notJson(refused.message, refused);
  }
  const uid = uidOf(envelope.value);
  return { ...envelope, malformed: notJson(refused.message, refused, uid) };
}

type ObjectField = 'object' | 'oldObject';

function parsedObjectField(req: Json, field: ObjectField, uid: string): unknown {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid(`request.${field} must be an object or null`, uid);
  return value;
}

const OPEN_OBJECT = 0x7b;
const NULL = new TextEncoder().encode('null');

/**
 * request.object or request.oldObject from its span: checked to be an object or null now,
 * parsed on first read. A read that finds broken JSON throws REVIEW_NOT_JSON with the uid.
 */
function lazyObjectField(body: ParsedBody, field: ObjectField, uid: string): () => unknown {
  const span = body[field];
  if (span === undefined) return () => undefined;
  const bytes = body.bytes.subarray(span[0], span[1]);
  if (bytes.length === NULL.length && bytes.every((b, i) => b === NULL[i])) return () => undefined;
  if (bytes[0] !== OPEN_OBJECT) throw invalid(`request.${field} must be an object or null`, uid);
  let value: unknown;
  return () => {
    if (value === undefined) {
      try {
        value = parseJson(utf8.decode(bytes));
      } catch (cause) {
        throw notJson(`request.${field}: ${(cause as Error).message}`, cause, uid);
      }
    }
    return value;
  };
}

/** The uid of a parsed body if it has one, so even a rejected review can be answered by uid. */
export function uidOf(parsed: unknown): string | undefined {
  if (!isObject(parsed) || !isObject(parsed.request)) return undefined;
  const uid = parsed.request.uid;
  return typeof uid === 'string' && uid.length > 0 ? uid : undefined;
}

/**
 * Checks a parsed body is an admission.k8s.io/v1 AdmissionReview with a usable request.
 * `parsed` is either a whole document or the envelope of `body` (see parseBody).
 */
export function checkReview(parsed: unknown, body?: ParsedBody): AdmissionReview {
  if (body?.malformed) throw body.malformed;
  if (!isObject(parsed)) throw invalid('the body must be a JSON object');
  // bouncer adds this member to the policy input itself (bundles/gatekeeper-input.ts).
  if (CONTEXT_MEMBER in parsed) throw invalid(`the member ${CONTEXT_MEMBER} is reserved and no AdmissionReview has it`, uidOf(parsed));
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
  const request = new CheckedRequest(
    {
      uid,
      kind: gvk(req.kind, 'kind', uid),
      resource: gvr(req.resource, uid),
      operation: operation as Operation,
      userInfo: userInfo(req.userInfo, uid),
      requestKind: req.requestKind ? gvk(req.requestKind, 'requestKind', uid) : undefined,
      subResource: optionalString(req, 'subResource', uid),
      name: optionalString(req, 'name', uid),
      namespace: optionalString(req, 'namespace', uid),
      dryRun: req.dryRun === true,
    },
    body ? lazyObjectField(body, 'object', uid) : constant(parsedObjectField(req, 'object', uid)),
    body ? lazyObjectField(body, 'oldObject', uid) : constant(parsedObjectField(req, 'oldObject', uid)),
    body ? lazyMetadata(body, 'object', uid) : constant(metadataOf(parsedObjectField(req, 'object', uid))),
    body ? lazyMetadata(body, 'oldObject', uid) : constant(metadataOf(parsedObjectField(req, 'oldObject', uid))),
  );
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', request, ...(body ? { contentDigest: () => contentDigest(body) } : {}) };
}

function metadataOf(object: unknown): Readonly<Record<string, unknown>> | undefined {
  return isObject(object) && isObject(object.metadata) ? object.metadata : undefined;
}

/** request.object.metadata (or oldObject's) from the bytes: only that member is parsed. */
function lazyMetadata(body: ParsedBody, field: 'object' | 'oldObject', uid: string): () => Readonly<Record<string, unknown>> | undefined {
  let value: Readonly<Record<string, unknown>> | undefined;
  let read = false;
  return () => {
    const at = body[field];
    if (!read && at && body.bytes[at[0]] === OPEN_OBJECT) {
      try {
        const span = memberSpan(body.bytes, at, 'metadata');
        value = span ? metadataOf({ metadata: parseJson(utf8.decode(body.bytes.subarray(span[0], span[1]))) }) : undefined;
      } catch (cause) {
        throw notJson(`request.${field}.metadata: ${(cause as Error).message}`, cause, uid);
      }
    }
    read = true;
    return value;
  };
}

/**
 * The digest of the body without request.uid's value: equal for two reviews exactly when
 * everything a policy can read is equal (the uid differs for every review).
 */
export function contentDigest(body: ParsedBody): string {
  const hash = createHash('sha256');
  if (body.uid) hash.update(body.bytes.subarray(0, body.uid[0])).update(body.bytes.subarray(body.uid[1]));
  else hash.update(body.bytes);
  return hash.digest('base64');
}

function constant<T>(value: T): () => T {
  return () => value;
}

/** Bytes → checked review. The raw bytes stay the policy input (no re-stringify, exact int64). */
export function decodeReview(body: Uint8Array): AdmissionReview {
  const parsed = parseBody(body);
  return checkReview(parsed.value, parsed);
}
