import { describe, expect, it } from 'vitest';
import { decodeChanges, encodeChanges } from './data-change-codec.js';
import type { DataChange } from './data-change.js';

const encoder = new TextEncoder();

describe('data change codec', () => {
  it('round-trips puts and removes in order, paths with any characters, empty and large values', () => {
    const changes: DataChange[] = [
      { op: 'put', path: ['inventory'], value: encoder.encode('{}') },
      { op: 'remove', path: ['inventory', 'namespace', 'a "quoted"\nns', 'v1', 'ConfigMap', 'é'] },
      { op: 'put', path: ['x'], value: new Uint8Array(0) },
      { op: 'put', path: ['big'], value: encoder.encode(JSON.stringify({ s: 'y'.repeat(100_000) })) },
    ];
    const bytes = encodeChanges(changes);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
    expect(decodeChanges(bytes)).toEqual(changes);
    expect(decodeChanges(encodeChanges([]))).toEqual([]);
  });
});
