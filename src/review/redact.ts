// Masking of request content before it leaves the process in a decision event. What is
// masked, wherever it sits in the object (and in oldObject):
// - the values of `data` and `stringData` of every Secret (the object, or one embedded in
//   it), `spec.token` of a TokenReview and `status.token` of a TokenRequest;
// - the `value` of every entry of every `env` list (containers, init and ephemeral
//   containers, pod templates at any depth); `valueFrom` names a source and is kept;
// - the configured JSON pointers (--decision-log-mask), relative to the object;
// - every copy of masked content in annotations. kubectl's last-applied-configuration (and
//   any other annotation holding a JSON object, such as kapp's original) is the whole object
//   again, Secret values and env values in plain text: it is parsed and masked by the same
//   rules, and replaced whole when anything in it is masked (or when last-applied does not
//   parse). Any other annotation containing a masked value (as is, JSON-escaped, or for
//   Secret data base64-decoded) of at least MIN_COPY_LENGTH characters is replaced whole.
// managedFields carry field names, never values, and are kept. ConfigMaps are not secret.
// The event lists each masked path, so readers know what they are not seeing.
// Nothing here recurses on the object, so objects as deep as the API server accepts
// (see KUBERNETES_MAX_JSON_DEPTH) are masked like any other.
import fastJsonPatch from 'fast-json-patch';
import { cloneJson, setOwn } from './json-value.js';
import { parseJson } from '../json/parse-json.js';

const { escapePathComponent, unescapePathComponent, getValueByPointer } = fastJsonPatch;

export const MASK = '**REDACTED**';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Shorter masked values are not looked for in other annotations: values such as "true",
 * "8080" or "info" are common env values, and would mask unrelated annotations by chance.
 */
export const MIN_COPY_LENGTH = 6;

export interface RequestObjects {
  readonly object: unknown;
  readonly oldObject: unknown;
}

export interface MaskedInput {
  /** A deep copy of the objects, masked. */
  readonly value: RequestObjects;
  /** JSON pointers into `value` (e.g. `/object/data/password`) whose values were masked. */
  readonly masked: readonly string[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The forms in which a masked string may be copied elsewhere: as is, JSON-escaped, and for Secret data decoded. */
function copiesOf(value: string, base64: boolean): string[] {
  const forms = [value];
  const escaped = JSON.stringify(value).slice(1, -1);
  if (escaped !== value) forms.push(escaped);
  if (base64) {
    try {
      forms.push(utf8.decode(Buffer.from(value, 'base64')));
    } catch {
      // Not UTF-8 text once decoded: nothing readable to look for.
    }
  }
  return forms.filter((f) => f.length >= MIN_COPY_LENGTH);
}

/** One masking pass over a document; `copies` collects what was masked, for the annotation scan. */
class Redaction {
  readonly masked = new Set<string>();
  /** Masked strings, and whether each is Secret data (base64); their copies are looked for only if needed. */
  readonly values = new Map<string, boolean>();
  private readonly annotationMaps: { map: Json; pointer: string }[] = [];

  /** Masks `parent[key]`, collecting every string under it. */
  private mask(parent: Json | unknown[], key: string | number, pointer: string, base64 = false): void {
    const work: unknown[] = [(parent as Json)[key as string]];
    while (work.length > 0) {
      const v = work.pop();
      if (typeof v === 'string' && v !== MASK && v.length >= MIN_COPY_LENGTH) this.values.set(v, base64 || this.values.get(v) === true);
      else if (typeof v === 'object' && v !== null) for (const child of Object.values(v)) work.push(child);
    }
    if (Array.isArray(parent)) parent[key as number] = MASK;
    else setOwn(parent, String(key), MASK);
    this.masked.add(pointer);
  }

  /** A configured pointer, if it exists under `root`. */
  maskPointer(document: unknown, root: string, pointer: string): void {
    if (!pointer.startsWith('/')) return;
    const cut = pointer.lastIndexOf('/');
    let parent: unknown;
    try {
      parent = getValueByPointer(document, `${root}${pointer.slice(0, cut)}`);
    } catch {
      return; // a segment on the way does not exist
    }
    const key = unescapePathComponent(pointer.slice(cut + 1));
    if (Array.isArray(parent) ? /^(0|[1-9][0-9]*)$/.test(key) && Number(key) < parent.length : isObject(parent) && Object.hasOwn(parent, key)) {
      this.mask(parent as Json, Array.isArray(parent) ? Number(key) : key, `${root}${pointer}`);
    }
  }

  /** The structural rules, over every node under `document` (an explicit work list, no recursion). */
  walk(document: unknown, root: string): void {
    const work: { node: unknown; pointer: string }[] = [{ node: document, pointer: root }];
    for (let item = work.pop(); item !== undefined; item = work.pop()) {
      const { node, pointer } = item;
      if (Array.isArray(node)) {
        node.forEach((child, i) => work.push({ node: child, pointer: `${pointer}/${i}` }));
        continue;
      }
      if (!isObject(node)) continue;
      this.maskKnownFields(node, pointer);
      const metadata = node.metadata;
      if (isObject(metadata) && isObject(metadata.annotations)) this.annotationMaps.push({ map: metadata.annotations, pointer: `${pointer}/metadata/annotations` });
      for (const key of Object.keys(node)) {
        const child = node[key];
        const at = `${pointer}/${escapePathComponent(key)}`;
        if (key === 'env' && Array.isArray(child)) {
          child.forEach((entry: unknown, i) => {
            if (isObject(entry) && Object.hasOwn(entry, 'value')) this.mask(entry, 'value', `${at}/${i}/value`);
          });
        }
        if (typeof child === 'object' && child !== null) work.push({ node: child, pointer: at });
      }
    }
  }

  private maskKnownFields(node: Json, pointer: string): void {
    if (node.kind === 'Secret') {
      for (const field of ['data', 'stringData']) {
        const map = node[field];
        if (!isObject(map)) continue;
        for (const key of Object.keys(map)) this.mask(map, key, `${pointer}/${field}/${escapePathComponent(key)}`, field === 'data');
      }
    }
    const tokenHolder = node.kind === 'TokenReview' ? node.spec : node.kind === 'TokenRequest' ? node.status : undefined;
    if (isObject(tokenHolder) && typeof tokenHolder.token === 'string') {
      this.mask(tokenHolder, 'token', `${pointer}/${node.kind === 'TokenReview' ? 'spec' : 'status'}/token`);
    }
  }

  /** Annotations holding serialized objects, then annotations holding copies of what was masked. */
  maskAnnotations(extraPointers: readonly string[]): void {
    const pending: { map: Json; key: string; pointer: string }[] = [];
    for (const { map, pointer } of this.annotationMaps) {
      for (const [key, value] of Object.entries(map)) {
        if (typeof value !== 'string' || value === MASK) continue;
        const at = `${pointer}/${escapePathComponent(key)}`;
        const embedded = parseEmbedded(value);
        if (embedded === undefined) {
          if (key === LAST_APPLIED) this.mask(map, key, at);
          else pending.push({ map, key, pointer: at });
          continue;
        }
        const inner = redactDocument(embedded, extraPointers);
        for (const [v, base64] of inner.values) this.values.set(v, base64 || this.values.get(v) === true);
        if (inner.masked.size > 0) this.mask(map, key, at);
        else pending.push({ map, key, pointer: at });
      }
    }
    const scanned = pending.filter(({ map, key }) => (map[key] as string).length >= MIN_COPY_LENGTH);
    if (scanned.length === 0 || this.values.size === 0) return;
    const copies = new Set([...this.values].flatMap(([v, base64]) => copiesOf(v, base64)));
    for (const { map, key, pointer } of scanned) {
      const value = map[key] as string;
      for (const copy of copies) {
        if (value.includes(copy)) {
          this.mask(map, key, pointer);
          break;
        }
      }
    }
  }
}

/** An annotation value that is a JSON object or array, parsed; undefined otherwise. */
function parseEmbedded(value: string): object | undefined {
  const start = value.trimStart()[0];
  if (start !== '{' && start !== '[') return undefined;
  try {
    const parsed: unknown = parseJson(value);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Masks `document` (an object as the API server sent it) in place. */
function redactDocument(document: unknown, extraPointers: readonly string[], roots: readonly string[] = ['']): Redaction {
  const redaction = new Redaction();
  for (const root of roots) for (const pointer of extraPointers) redaction.maskPointer(document, root, pointer);
  for (const root of roots) redaction.walk(root === '' ? document : getValueByPointer(document, root), root);
  redaction.maskAnnotations(extraPointers);
  return redaction;
}

/** A request's objects, masked; `extraPointers` are relative to each object. The inputs are not modified. */
export function redactInput(input: RequestObjects, extraPointers: readonly string[] = []): MaskedInput {
  const copy = cloneJson({ object: input.object, oldObject: input.oldObject });
  const redaction = redactDocument(copy, extraPointers, ['/object', '/oldObject']);
  return { value: copy, masked: [...redaction.masked] };
}
