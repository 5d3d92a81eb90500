// The bundle loader runs every step that reads or runs a bundle's content in a worker with
// a time and memory budget: a bundle that never finishes is refused with a code while
// this thread (health probes, timers) keeps answering.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadBundle } from '../../src/bundles/bundle.js';
import { createBundleLoader } from '../../src/bundles/bundle-loader.js';
import { createHealthServer } from '../../src/http/health-server.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { configMapRequest, editBundle, reviewBytes } from '../support/bundle-files.js';
import { neverLoadingBundle } from '../support/poisoned-bundles.js';
import { otherPrivateKeyPem } from '../support/sign.js';

const bundles = () => inject('bundles');
const file = (name: string) => bundles()[name] as string;

describe('createBundleLoader', () => {
  const health = createHealthServer({ metrics: createMetrics({ defaultMetrics: false }), readiness: () => ({ ready: false, reason: 'loading' }) });
  let healthz: string;
  beforeAll(async () => {
    await health.listen({ host: '127.0.0.1', port: 0 });
    healthz = `http://127.0.0.1:${(health.server.address() as AddressInfo).port}/healthz`;
  });
  afterAll(() => health.close());

  it('loads a real bundle in a worker: the same revision, digest, policies and decisions as a load on this thread', async () => {
    const prepared: string[] = [];
    const load = createBundleLoader({ prepare: async (b) => void prepared.push(b.key) });
    const bytes = readFileSync(file('basic'));
    const [viaWorker, local] = await Promise.all([load('basic', bytes), loadBundle('basic', bytes)]);
    expect(viaWorker).toMatchObject({ name: 'basic', revision: local.revision, digest: local.digest, key: local.digest });
    expect(viaWorker.policies).toEqual(local.policies);
    expect(viaWorker.manifest).toEqual(local.manifest);
    expect(Object.isFrozen(viaWorker)).toBe(true);
    expect(prepared).toEqual([local.digest]);
    // The instance on this thread is built on first use, from the module the worker compiled.
    expect(viaWorker.evaluator.memoryBytes()).toBe(0);
    const input = reviewBytes(configMapRequest({ deny: 'true' }));
    const ids = local.policies.flatMap((p) => (p.validate === undefined ? [] : [p.validate]));
    expect(viaWorker.evaluator.evaluate(input, ids)).toEqual(local.evaluator.evaluate(input, ids));
  });

  it('keeps timers and a real health probe answering while a bundle whose start function never returns loads, then refuses it with BUNDLE_LOAD_TIMEOUT', async () => {
    const load = createBundleLoader({ timeoutMs: 1500 });
    let pending = true;
    let ticks = 0;
    const answeredWhilePending: number[] = [];
    const interval = setInterval(() => ticks++, 10);
    const loading = load('poisoned', await neverLoadingBundle(file('colors'))).finally(() => (pending = false));
    loading.catch(() => undefined);
    try {
      while (pending) {
        const status = await fetch(healthz).then((r) => r.status);
        if (pending) answeredWhilePending.push(status);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      clearInterval(interval);
    }
    await expect(loading).rejects.toMatchObject({ code: 'BUNDLE_LOAD_TIMEOUT', message: expect.stringContaining('1500 ms') });
    expect(answeredWhilePending.length).toBeGreaterThanOrEqual(5);
    expect(answeredWhilePending.every((s) => s === 200)).toBe(true);
    expect(ticks).toBeGreaterThanOrEqual(20);
  });

  it('refuses a real OPA-built policy that spins on the self-check probe with BUNDLE_LOAD_TIMEOUT', async () => {
    const load = createBundleLoader({ timeoutMs: 1500 });
    await expect(load('slow', readFileSync(file('slow-self-check')))).rejects.toMatchObject({ code: 'BUNDLE_LOAD_TIMEOUT' });
  });

  // Empty arrays under the bundle's root: the densest JSON there is, each a few bytes of text and tens once parsed.
  const filler = async (arrays: number) =>
    editBundle(file('colors'), (f) => f.set('/data.json', Buffer.from(`{"policies": {"color_gate": {"denied": [], "filler": [${'[],'.repeat(arrays)}[]]}}}`)));

  it.each([
    ['a data.json larger than the JSON share of the budget, before it is parsed', 700_000, 'the load budget allows JSON files of at most 1048576 bytes'],
    ['a data.json that does not fit in the WASM memory share of the budget', 160_000, 'does not fit in the WASM memory budget of 128 pages'],
  ])('refuses %s with BUNDLE_OVER_BUDGET', async (_name, arrays, message) => {
    const load = createBundleLoader({ maxMemoryMb: 8 });
    await expect(load('huge', await filler(arrays))).rejects.toMatchObject({ code: 'BUNDLE_OVER_BUDGET', message: expect.stringContaining(message) });
  });

  it('verifies the signature before anything is compiled: a never-finishing module signed by another key is refused as unsigned, not timed out', async () => {
    const load = createBundleLoader({ timeoutMs: 30_000, verify: { publicKeyPem: inject('signingKeys').signerPublic, algorithm: 'RS256' } });
    const bytes = await neverLoadingBundle(file('colors'), { signingKeyPem: otherPrivateKeyPem() });
    await expect(load('forged', bytes)).rejects.toMatchObject({ code: 'BUNDLE_SIGNATURE_INVALID' });
    await expect(load('signed', readFileSync(file('signed-rs256')))).resolves.toMatchObject({ revision: 'test-signed-rs256-1' });
  });

  it.each([
    ['bytes that are not gzip', async () => Buffer.from('not a bundle'), 'BUNDLE_CORRUPT'],
    ['a policy failing the self-check', async () => readFileSync(file('self-check-fails')), 'BUNDLE_SELF_CHECK_FAILED'],
    ['a module that does not import its memory (its memory would have no bound)', async () => neverLoadingBundle(file('colors'), { importsMemory: false }), 'BUNDLE_WASM_INVALID'],
  ])('refuses %s with the same code as on this thread', async (_name, bytes, code) => {
    await expect(createBundleLoader()('x', await bytes())).rejects.toMatchObject({ code });
  });

  it('loads again after a load timed out, and runs concurrent loads each to the end', async () => {
    const load = createBundleLoader({ timeoutMs: 1500 });
    await expect(load('poisoned', await neverLoadingBundle(file('colors')))).rejects.toMatchObject({ code: 'BUNDLE_LOAD_TIMEOUT' });
    await expect(load('x', Buffer.from('not a bundle'))).rejects.toMatchObject({ code: 'BUNDLE_CORRUPT' });
    const [basic, colors] = await Promise.all([load('basic', readFileSync(file('basic'))), load('colors', readFileSync(file('colors')))]);
    expect([basic.revision, colors.revision]).toEqual(['test-basic-1', 'test-colors-1']);
  });

  it('refuses the bundle when prepare fails', async () => {
    const load = createBundleLoader({ prepare: async () => Promise.reject(new Error('no worker took it')) });
    await expect(load('basic', readFileSync(file('basic')))).rejects.toThrow('no worker took it');
  });

  it('refuses an unusable verification key when the loader is built', () => {
    expect(() => createBundleLoader({ verify: { publicKeyPem: 'not a key', algorithm: 'RS256' } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
