// What the Namespace cache keeps of a Namespace: its name, labels and annotations, nothing
// else (no spec, status or managedFields), frozen, so a request can read it without a copy.
//
// NamespaceInfo is structurally identical to NamespaceInfo of src/gatekeeper/types.ts: the
// layer table lets src/cluster import only errors and certs, so it is declared here again
// and the two are checked against each other where they meet (main.ts, tests).

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Namespace by name; undefined when it is not known (a match that needs it is then an error, never a guess). */
export type NamespaceLookup = (name: string) => NamespaceInfo | undefined;

/**
 * A copy of the object `kubectl apply` last applied: it repeats the whole Namespace, is
 * usually its largest annotation, and is not metadata a policy matches on, so it is dropped.
 */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Default bound on the annotations kept per Namespace (UTF-16 code units of keys and values). */
export const DEFAULT_MAX_ANNOTATION_CHARS = 16 * 1024;

export interface NamespaceMetadata {
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>> | null;
  readonly annotations?: Readonly<Record<string, string>> | null;
}

export interface Projection {
  readonly info: NamespaceInfo;
  /** True when the annotations were over the bound and none were kept. */
  readonly annotationsDropped: boolean;
}

/**
 * The labels and annotations of a Namespace, copied into fresh frozen objects (the received
 * object is not retained). Annotations whose total size is over `maxAnnotationChars` are all
 * dropped rather than cut, so a policy never sees a partial set that looks complete; the
 * caller counts and logs it.
 */
export function projectNamespace(metadata: NamespaceMetadata, maxAnnotationChars = DEFAULT_MAX_ANNOTATION_CHARS): Projection {
  const labels = Object.freeze(copyStrings(metadata.labels));
  const annotations = copyStrings(metadata.annotations, LAST_APPLIED);
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += k.length + v.length;
  const annotationsDropped = size > maxAnnotationChars;
  const info: NamespaceInfo = Object.freeze({
    name: metadata.name ?? '',
    labels,
    ...(annotationsDropped || Object.keys(annotations).length === 0 ? {} : { annotations: Object.freeze(annotations) }),
  });
  return { info, annotationsDropped };
}

function copyStrings(source: Readonly<Record<string, string>> | null | undefined, skip?: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source) return out;
  for (const [k, v] of Object.entries(source)) if (k !== skip && typeof v === 'string') out[k] = v;
  return out;
}
