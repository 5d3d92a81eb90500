// Namespaces for the CLI (`bouncer review --namespaces FILE`): what the server's watch-backed
// cache gives the webhook, read from Namespace objects in files (YAML or JSON, several per
// file, or a `kind: List` as `kubectl get namespaces -o yaml` prints it).
import { readDocuments } from '../authoring/review-documents.js';
import { BouncerError } from '../errors/errors.js';
import type { NamespaceInfo, NamespaceLookup } from '../gatekeeper/types.js';

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringMap(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) throw new BouncerError('INPUT_INVALID', `${where} must map strings to strings`);
  return v as Record<string, string>;
}

function namespaceInfo(value: unknown, source: string): NamespaceInfo {
  if (!isObject(value) || value.apiVersion !== 'v1' || value.kind !== 'Namespace' || !isObject(value.metadata) || typeof value.metadata.name !== 'string') {
    throw new BouncerError('INPUT_INVALID', `${source}: expected a v1 Namespace with metadata.name`);
  }
  const labels = stringMap(value.metadata.labels, `${source}: metadata.labels`) ?? {};
  const annotations = stringMap(value.metadata.annotations, `${source}: metadata.annotations`);
  // The API server sets this label on every Namespace; selectors on it must work here too.
  return { name: value.metadata.name, labels: { 'kubernetes.io/metadata.name': value.metadata.name, ...labels }, ...(annotations ? { annotations } : {}) };
}

export function readNamespaceFiles(files: readonly string[], stdin: () => string): NamespaceLookup {
  const byName = new Map<string, NamespaceInfo>();
  for (const file of files) {
    for (const doc of readDocuments(file, stdin)) {
      const items = isObject(doc.value) && doc.value.kind === 'List' && Array.isArray(doc.value.items) ? doc.value.items : [doc.value];
      for (const item of items) {
        const info = namespaceInfo(item, doc.source);
        byName.set(info.name, info);
      }
    }
  }
  return (name) => byName.get(name);
}
