// The bundle loader over fuzzed bytes: every mutation of a real bundle either loads (and
// then evaluates) or is refused with a bundle error code; nothing else escapes.
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { loadBundle } from '../../src/bundles/bundle.js';
import { isBouncerError } from '../../src/errors/errors.js';
import { configMapRequest, reviewBytes } from '../support/bundle-files.js';

const RUNS = Number(process.env.BOUNCER_FUZZ_RUNS ?? 60);
const BUNDLE_CODES = new Set([
  'BUNDLE_CORRUPT',
  'BUNDLE_MANIFEST_INVALID',
  'BUNDLE_WASM_INVALID',
  'BUNDLE_DATA_INVALID',
  'BUNDLE_BUILTIN_UNSUPPORTED',
  'BUNDLE_SELF_CHECK_FAILED',
]);

async function loadsOrRefuses(bytes: Uint8Array): Promise<'loaded' | string> {
  try {
    const bundle = await loadBundle('fuzz', bytes);
    // A bundle that loads must also evaluate without throwing.
    bundle.evaluator.evaluate(reviewBytes(configMapRequest({ deny: 'true' })), bundle.policies.flatMap((p) => (p.validate === undefined ? [] : [p.validate])));
    return 'loaded';
  } catch (err) {
    if (!isBouncerError(err) || !BUNDLE_CODES.has(err.code)) throw err;
    return err.code;
  }
}

describe('bundle fuzzing', () => {
  const original = () => readFileSync(inject('bundles').basic as string);

  it('refuses or loads every mutation of the gzipped bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (flips) => {
        const bytes = Buffer.from(original());
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        expect(['loaded', ...BUNDLE_CODES]).toContain(await loadsOrRefuses(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses or loads every mutation of the tar stream inside valid gzip', async () => {
    const tar = gunzipSync(original());
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }), fc.nat(), async (flips, cut) => {
        const bytes = Buffer.from(tar.subarray(0, tar.length - (cut % 2048)));
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        expect(['loaded', ...BUNDLE_CODES]).toContain(await loadsOrRefuses(gzipSync(bytes)));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        expect([...BUNDLE_CODES]).toContain(await loadsOrRefuses(bytes));
      }),
      { numRuns: RUNS },
    );
  });
});
