import { beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleFiles, configMapRequest, reviewBytes } from '../../test/support/bundle-files.js';
import { createEvaluator, type Evaluator } from './evaluator.js';
import { compileWasm, type WasmModule } from './wasm-module.js';

const encoder = new TextEncoder();

describe('createEvaluator', () => {
  let mod: WasmModule;
  let data: Uint8Array;
  let evaluator: Evaluator;
  const entry = (snake: string, kind = 'validate'): number => {
    const id = mod.entrypoints[`bouncer/entry/${snake}/${kind}`];
    if (id === undefined) throw new Error(`no entrypoint for ${snake}`);
    return id;
  };

  beforeAll(async () => {
    const files = await bundleFiles(inject('bundles').basic as string);
    mod = await compileWasm(files.get('/policy.wasm') as Uint8Array);
    data = files.get('/data.json') as Uint8Array;
    evaluator = createEvaluator(mod, data);
  });

  it('evaluates several entrypoints against one input, in order', () => {
    const input = reviewBytes(configMapRequest({ deny: 'true', notice: 'true' }));
    const [deny, warn, patch] = evaluator.evaluate(input, [entry('deny_label'), entry('warn_label'), entry('patch_a', 'mutate')]);
    expect(deny).toEqual({ ok: true, value: { deny: ['ConfigMap "cm" carries the deny label'], warn: [] } });
    expect(warn).toEqual({ ok: true, value: { deny: [], warn: ['ConfigMap carries the notice label'] } });
    expect(patch).toEqual({ ok: true, value: [{ op: 'add', path: '/data/a', value: '1' }] });
  });

  it('isolates a runtime error to its entrypoint and keeps evaluating the rest, then the next review', () => {
    const input = reviewBytes(configMapRequest({ 'break-closed': 'x', deny: 'true' }));
    const [broken, deny] = evaluator.evaluate(input, [entry('broken_closed'), entry('deny_label')]);
    expect(broken).toMatchObject({ ok: false, failure: { class: 'runtime', message: expect.stringContaining('conflict') } });
    expect(deny).toEqual({ ok: true, value: { deny: ['ConfigMap "cm" carries the deny label'], warn: [] } });
    const [again] = evaluator.evaluate(reviewBytes(configMapRequest({})), [entry('broken_closed')]);
    expect(again).toEqual({ ok: true, value: { deny: [], warn: [] } });
  });

  it.each([
    ['truncated JSON', '{"apiVersion": "admission.k8s.io/v1", "request": {'],
    ['not JSON at all', 'hello'],
  ])('reports %s as an input failure for every entrypoint', (_name, text) => {
    const outcomes = evaluator.evaluate(encoder.encode(text), [entry('deny_label'), entry('warn_label')]);
    expect(outcomes).toEqual([
      { ok: false, failure: { class: 'input', message: expect.stringContaining('cannot parse the input') } },
      { ok: false, failure: { class: 'input', message: expect.stringContaining('cannot parse the input') } },
    ]);
  });

  it('fails an input larger than the memory cap as an input failure (of the review, not of a policy), and recovers', () => {
    const small = createEvaluator(mod, data, { maxMemoryPages: 40 });
    const huge = reviewBytes(configMapRequest({}, { object: { metadata: { name: 'x' }, data: { blob: 'x'.repeat(4 * 1024 * 1024) } } }));
    const [outcome] = small.evaluate(huge, [entry('deny_label')]);
    expect(outcome).toMatchObject({ ok: false, failure: { class: 'input', message: expect.stringContaining('opa_malloc') } });
    const [next] = small.evaluate(reviewBytes(configMapRequest({ deny: 'true' })), [entry('deny_label')]);
    expect(next).toMatchObject({ ok: true, value: { deny: ['ConfigMap "cm" carries the deny label'] } });
  });

  it('refuses data that is not JSON', () => {
    expect(() => createEvaluator(mod, encoder.encode('{"a": '))).toThrow(expect.objectContaining({ code: 'BUNDLE_DATA_INVALID' }));
  });
});

describe('int64 values', () => {
  it('compares integers beyond 2^53 exactly, as OPA does, because the raw bytes reach WASM', async () => {
    const files = await bundleFiles(inject('bundles').edge as string);
    const mod = await compileWasm(files.get('/policy.wasm') as Uint8Array);
    const evaluator = createEvaluator(mod, files.get('/data.json') as Uint8Array);
    const id = mod.entrypoints['bouncer/entry/int64_exact/validate'] as number;
    const review = (big: string) =>
      encoder.encode(
        `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{"spec":{"big":${big}}}}}`,
      );
    expect(evaluator.evaluate(review('9007199254740993'), [id])[0]).toMatchObject({ ok: true, value: { deny: ['spec.big is exactly 9007199254740993'] } });
    // As a JS number this is the same double as ...993; OPA (and bouncer) tell them apart.
    expect(evaluator.evaluate(review('9007199254740992'), [id])[0]).toEqual({ ok: true, value: { deny: [], warn: [] } });
  });
});
