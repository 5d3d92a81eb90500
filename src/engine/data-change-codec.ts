// DataChanges as one byte buffer, for posting to evaluation workers: a batch is copied once
// per worker as a single ArrayBuffer (a structured clone of bytes is a memcpy), instead of
// cloning an object graph, and decoded there into views of that buffer (values not copied).
//
// Layout (little endian): u32 count, then per change: u8 op (1 put, 2 remove), u32 length
// and the path as JSON text, and for a put u32 length and the value's JSON text.
import type { DataChange } from './data-change.js';
import { parseJson } from '../json/parse-json.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PUT = 1;
const REMOVE = 2;

export function encodeChanges(changes: readonly DataChange[]): Uint8Array {
  const paths = changes.map((c) => encoder.encode(JSON.stringify(c.path)));
  let size = 4;
  changes.forEach((c, i) => {
    size += 1 + 4 + (paths[i] as Uint8Array).byteLength + (c.op === 'put' ? 4 + c.value.byteLength : 0);
  });
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, changes.length, true);
  let at = 4;
  const chunk = (b: Uint8Array) => {
    view.setUint32(at, b.byteLength, true);
    bytes.set(b, at + 4);
    at += 4 + b.byteLength;
  };
  changes.forEach((c, i) => {
    view.setUint8(at++, c.op === 'put' ? PUT : REMOVE);
    chunk(paths[i] as Uint8Array);
    if (c.op === 'put') chunk(c.value);
  });
  return bytes;
}

/** The changes in `bytes` (from encodeChanges); put values are views into `bytes`. */
export function decodeChanges(bytes: Uint8Array): DataChange[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  let at = 4;
  const chunk = (): Uint8Array => {
    const length = view.getUint32(at, true);
    const b = bytes.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return b;
  };
  const changes: DataChange[] = [];
  for (let i = 0; i < count; i++) {
    const op = view.getUint8(at++);
    const path = parseJson(decoder.decode(chunk())) as string[];
    if (op === PUT) changes.push({ op: 'put', path, value: chunk() });
    else if (op === REMOVE) changes.push({ op: 'remove', path });
    else throw new Error(`unknown data change op ${op}`);
  }
  return changes;
}
