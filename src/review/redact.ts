// Masking of request content before it leaves the process in a decision event: Secret
// data and stringData values, every container env value, and configured JSON pointers.
// The event lists each masked path, so readers know what they are not seeing.
const MASK = '**REDACTED**';

function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function parsePointer(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export interface Masked {
  readonly value: unknown;
  readonly masked: readonly string[];
}

/** A deep copy of `value` (a Kubernetes object) with sensitive fields masked. */
export function redactObject(value: unknown, extraPointers: readonly string[] = [], root = ''): Masked {
  if (value === null || typeof value !== 'object') return { value, masked: [] };
  const copy = structuredClone(value) as Record<string, unknown>;
  const masked: string[] = [];
  if (copy.kind === 'Secret') {
    for (const field of ['data', 'stringData']) {
      const map = copy[field];
      if (map && typeof map === 'object') {
        for (const key of Object.keys(map)) {
          (map as Record<string, unknown>)[key] = MASK;
          masked.push(`${root}/${field}/${escape(key)}`);
        }
      }
    }
  }
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${path}/${i}`));
      return;
    }
    if (!node || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    for (const [key, child] of Object.entries(obj)) {
      if (key === 'env' && Array.isArray(child)) {
        child.forEach((entry: unknown, i) => {
          if (entry && typeof entry === 'object' && 'value' in entry) {
            (entry as Record<string, unknown>).value = MASK;
            masked.push(`${path}/env/${i}/value`);
          }
        });
      } else {
        walk(child, `${path}/${escape(key)}`);
      }
    }
  };
  walk(copy, root);
  for (const pointer of extraPointers) {
    const parts = parsePointer(pointer);
    let node: unknown = copy;
    for (const part of parts.slice(0, -1)) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    const last = parts.at(-1);
    if (last !== undefined && node && typeof node === 'object' && last in node) {
      (node as Record<string, unknown>)[last] = MASK;
      masked.push(`${root}${pointer}`);
    }
  }
  return { value: copy, masked };
}
