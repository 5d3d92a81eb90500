// JSON text of an event, whatever its depth. JSON.stringify recurses and throws a RangeError
// near 4,100 levels on Node 20, while a decision event carrying input holds objects as deep
// as the API server accepts (10,000 levels: KUBERNETES_MAX_JSON_DEPTH in review/json-value.ts).
// The native serializer stays the fast path; only when it runs out of stack is the value
// serialized again with an explicit work list, which gives the same text.

type Frame = { readonly entries: [string | number, unknown][]; index: number; readonly array: boolean };

/** The JSON.stringify text of a value that has no toJSON methods (plain data, as parsed from JSON). */
export function iterativeJsonText(value: unknown): string | undefined {
  const out: string[] = [];
  const stack: Frame[] = [];
  /** Writes a scalar, or opens a container; false when the value is omitted (undefined, function, symbol). */
  const open = (v: unknown, inArray: boolean): boolean => {
    if (typeof v === 'object' && v !== null) {
      const array = Array.isArray(v);
      out.push(array ? '[' : '{');
      stack.push({ entries: array ? Array.from(v as unknown[], (e, i): [number, unknown] => [i, e]) : Object.entries(v), index: 0, array });
      return true;
    }
    const text = JSON.stringify(v) as string | undefined;
    if (text === undefined) {
      if (inArray) out.push('null');
      return inArray;
    }
    out.push(text);
    return true;
  };
  if (!open(value, false)) return undefined;
  const written: number[] = [0];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    if (frame.index >= frame.entries.length) {
      out.push(frame.array ? ']' : '}');
      stack.pop();
      written.pop();
      continue;
    }
    const [key, child] = frame.entries[frame.index++] as [string | number, unknown];
    if (!frame.array && (child === undefined || typeof child === 'function' || typeof child === 'symbol')) continue;
    const count = written.length - 1;
    if ((written[count] as number) > 0) out.push(',');
    written[count] = (written[count] as number) + 1;
    if (!frame.array) out.push(`${JSON.stringify(key)}:`);
    if (typeof child === 'object' && child !== null) written.push(0);
    open(child, frame.array);
  }
  return out.join('');
}

/** JSON.stringify(value), also for values too deep for it. */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return iterativeJsonText(value) as string;
  }
}
