// How apimachinery's unstructured.Unstructured reads an object's type and identity, which
// gator uses for suites, reviews and inventory: apiVersion "v1" is group "", "apps/v1" is
// group apps; more than one "/" is malformed (the whole GroupVersionKind is then empty);
// kind, name and namespace count only when they are strings.

/** schema.ParseGroupVersion; version undefined when malformed. */
export function goGroupVersion(apiVersion: unknown): { group: string; version: string | undefined } {
  const text = typeof apiVersion === 'string' ? apiVersion : '';
  const parts = text.split('/');
  if (parts.length === 1) return { group: '', version: text };
  if (parts.length === 2) return { group: parts[0] ?? '', version: parts[1] ?? '' };
  return { group: '', version: undefined };
}

export interface GoObjectIdentity {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

export function goObjectIdentity(object: Readonly<Record<string, unknown>>): GoObjectIdentity {
  const { group, version } = goGroupVersion(object['apiVersion']);
  const metadata = object['metadata'];
  const meta = typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : {};
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    group: version === undefined ? '' : group,
    version: version ?? '',
    kind: version === undefined ? '' : str(object['kind']),
    name: str(meta['name']),
    namespace: str(meta['namespace']),
  };
}

/** schema.GroupVersionKind's String(): "apps/v1, Kind=Deployment", "/v1, Kind=Pod". */
export function goGvkString(id: Pick<GoObjectIdentity, 'group' | 'version' | 'kind'>): string {
  return `${id.group}/${id.version}, Kind=${id.kind}`;
}
