// Deep copy and deep equality of JSON values (what JSON.parse returns) that cannot overflow
// the stack: both walk with an explicit work list, so their cost is the value's size, never
// its depth. The API server accepts objects as deep as its JSON decoder allows (custom
// resources with x-kubernetes-preserve-unknown-fields have no schema to limit them), which
// is deeper than V8's call stack allows recursive code to go: on Node 20, structuredClone
// fails near 1,900 levels and JSON.stringify near 4,100 (JSON.parse is not recursive).

/**
 * The deepest JSON the API server decodes: sigs.k8s.io/json (the decoder behind
 * k8s.io/apimachinery/pkg/util/json.Unmarshal, used for every JSON request body) refuses
 * more than 10,000 nested arrays and objects, "exceeded max depth" —
 * https://github.com/kubernetes-sigs/json/blob/main/internal/golang/encoding/json/scanner.go
 * (maxNestingDepth) — and apimachinery's number conversion has the same bound —
 * https://github.com/kubernetes/apimachinery/blob/v0.35.4/pkg/util/json/json.go#L40 (maxDepth).
 * An object (its own braces count as one level) can be this deep inside an AdmissionReview.
 */
export const KUBERNETES_MAX_JSON_DEPTH = 10_000;

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

/** Sets an own data property, also for keys such as `__proto__` that assignment would not create. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** The value of an own property, or undefined (never one inherited from Object.prototype). */
export function getOwn(target: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(target, key) ? target[key] : undefined;
}

/** A shallow copy of a container: a new array or plain object with the same entries. */
export function shallowCopy(value: Container): Container {
  if (Array.isArray(value)) return value.slice();
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(copy, key, value[key]);
  return copy;
}

/**
 * A deep copy of a JSON value. structuredClone (native, about twice as fast) is the fast
 * path; a value too deep for it is copied with an explicit work list instead.
 */
export function cloneJson<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return iterativeClone(value);
  }
}

/** cloneJson without the native fast path (exported for its tests). */
export function iterativeClone<T>(value: T): T {
  if (!isContainer(value)) return value;
  const root = shallowCopy(value);
  const work: Container[] = [root];
  for (let node = work.pop(); node !== undefined; node = work.pop()) {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i];
        if (isContainer(child)) work.push((node[i] = shallowCopy(child)));
      }
    } else {
      for (const key of Object.keys(node)) {
        const child = node[key];
        if (isContainer(child)) {
          const copy = shallowCopy(child);
          setOwn(node, key, copy);
          work.push(copy);
        }
      }
    }
  }
  return root as T;
}

/** JSON equality: same types, same numbers and strings, same array order, same object members in any order. */
export function equalJson(a: unknown, b: unknown): boolean {
  const work: [unknown, unknown][] = [[a, b]];
  for (let pair = work.pop(); pair !== undefined; pair = work.pop()) {
    const [x, y] = pair;
    if (x === y) continue;
    if (!isContainer(x) || !isContainer(y)) return false;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) work.push([x[i], y[i]]);
    } else {
      if (Array.isArray(y)) return false;
      const keys = Object.keys(x);
      if (keys.length !== Object.keys(y).length) return false;
      for (const key of keys) {
        if (!Object.prototype.hasOwnProperty.call(y, key)) return false;
        work.push([x[key], (y as Record<string, unknown>)[key]]);
      }
    }
  }
  return true;
}
