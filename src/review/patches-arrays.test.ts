// Patches of several policies on arrays: every policy computed its indices on the object under
// review, so a combination is accepted only if each index still names the element it named
// there. Each accepted case is checked against an independent JSON Patch implementation
// (fast-json-patch): the combined patch applied to the object gives the expected object.
import fastJsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import type { JsonPatchOperation } from '../admission/types.js';
import type { PolicyOutcome } from './decision.js';
import { combinePatches } from './patches.js';

function mutate(policy: string, patch: JsonPatchOperation[]): PolicyOutcome {
  return { policy, bundle: 'b', enforcement: 'deny', failure: 'fail-closed', action: 'mutate', violations: [], warnings: [], patch };
}

const pod = () => ({
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    containers: [
      { name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'log', image: 'log:1', env: [{ name: 'C', value: '3' }] },
    ],
    initContainers: [] as unknown[],
  },
});

const op = (o: JsonPatchOperation['op'], path: string, rest: Partial<JsonPatchOperation> = {}): JsonPatchOperation => ({ op: o, path, ...rest });
const add = (path: string, value: unknown) => op('add', path, { value });
const replace = (path: string, value: unknown) => op('replace', path, { value });
const remove = (path: string) => op('remove', path);

type Case = {
  name: string;
  outcomes: PolicyOutcome[];
  /** Outcome actions and error codes, in order. */
  errors: (string | undefined)[];
  /** For accepted combinations: what the object becomes. */
  result?: (p: ReturnType<typeof pod>) => unknown;
};

const CONFLICT = 'POLICY_PATCH_CONFLICT';

describe('combinePatches on arrays', () => {
  it.each<Case>([
    // The case: without the rule, b rewrites the image of the container that was at index 2.
    { name: 'a remove shifts the array under another policy’s index', outcomes: [mutate('a', [remove('/spec/containers/0')]), mutate('b', [replace('/spec/containers/1/image', 'log:2')])], errors: [undefined, CONFLICT] },
    { name: 'an index then a remove, the other way round, conflicts too', outcomes: [mutate('a', [replace('/spec/containers/1/image', 'log:2')]), mutate('b', [remove('/spec/containers/0')])], errors: [undefined, CONFLICT] },
    { name: 'an insert at an index shifts the array', outcomes: [mutate('a', [add('/spec/containers/0', { name: 'first' })]), mutate('b', [replace('/spec/containers/0/image', 'app:2')])], errors: [undefined, CONFLICT] },
    { name: 'an insert at the end index is an insert, not an append', outcomes: [mutate('a', [add('/spec/containers/2', { name: 'x' })]), mutate('b', [add('/spec/containers/-', { name: 'y' })])], errors: [undefined, CONFLICT] },
    { name: 'a remove and another policy’s append conflict', outcomes: [mutate('a', [remove('/spec/containers/0')]), mutate('b', [add('/spec/containers/-', { name: 'sidecar' })])], errors: [undefined, CONFLICT] },
    {
      name: 'appends ("-") of several policies combine in policy order',
      outcomes: [mutate('a', [add('/spec/containers/-', { name: 'sidecar-a' })]), mutate('b', [add('/spec/containers/-', { name: 'sidecar-b' })])],
      errors: [undefined, undefined],
      result: (p) => ({ ...p, spec: { ...p.spec, containers: [...p.spec.containers, { name: 'sidecar-a' }, { name: 'sidecar-b' }] } }),
    },
    {
      name: 'an append and another policy’s index below the original end combine',
      outcomes: [mutate('a', [add('/spec/containers/-', { name: 'sidecar' })]), mutate('b', [replace('/spec/containers/1/image', 'log:2')])],
      errors: [undefined, undefined],
      result: (p) => ({ ...p, spec: { ...p.spec, containers: [p.spec.containers[0], { ...p.spec.containers[1], image: 'log:2' }, { name: 'sidecar' }] } }),
    },
    {
      name: 'an append and another policy addressing its own appended element conflict',
      outcomes: [mutate('a', [add('/spec/containers/-', { name: 'x' })]), mutate('b', [add('/spec/containers/-', { name: 'y' }), replace('/spec/containers/2/name', 'z')])],
      errors: [undefined, CONFLICT],
    },
    {
      name: 'one policy appending and addressing its own appended element is fine',
      outcomes: [mutate('a', [add('/spec/containers/-', { name: 'y' }), replace('/spec/containers/2/name', 'z')]), mutate('b', [replace('/spec/containers/0/image', 'app:2')])],
      errors: [undefined, undefined],
      result: (p) => ({ ...p, spec: { ...p.spec, containers: [{ ...p.spec.containers[0], image: 'app:2' }, p.spec.containers[1], { name: 'z' }] } }),
    },
    { name: 'a move within the array shifts it', outcomes: [mutate('a', [op('move', '/spec/containers/0', { from: '/spec/containers/1' })]), mutate('b', [replace('/spec/containers/0/image', 'app:2')])], errors: [undefined, CONFLICT] },
    { name: 'a move out of the array shifts it', outcomes: [mutate('a', [op('move', '/spec/initContainers/-', { from: '/spec/containers/1' })]), mutate('b', [replace('/spec/containers/0/image', 'app:2')])], errors: [undefined, CONFLICT] },
    { name: 'a move appended into an array another policy appends to combines', outcomes: [mutate('a', [op('move', '/spec/initContainers/-', { from: '/metadata/labels' })]), mutate('b', [add('/spec/initContainers/-', { name: 'init' })])], errors: [undefined, undefined], result: (p) => ({ metadata: { name: 'web' }, spec: { ...p.spec, initContainers: [{ app: 'web' }, { name: 'init' }] } }) },
    { name: 'a copy inserted at an index shifts the array', outcomes: [mutate('a', [op('copy', '/spec/containers/0', { from: '/spec/containers/1' })]), mutate('b', [replace('/spec/containers/1/image', 'log:2')])], errors: [undefined, CONFLICT] },
    {
      name: 'a copy appended and another policy’s index below the original end combine',
      outcomes: [mutate('a', [op('copy', '/spec/containers/-', { from: '/spec/containers/0' })]), mutate('b', [replace('/spec/containers/1/image', 'log:2')])],
      errors: [undefined, undefined],
      result: (p) => ({ ...p, spec: { ...p.spec, containers: [p.spec.containers[0], { ...p.spec.containers[1], image: 'log:2' }, p.spec.containers[0]] } }),
    },
    { name: 'a copy from an element another policy rewrites conflicts', outcomes: [mutate('a', [replace('/spec/containers/0/image', 'app:2')]), mutate('b', [op('copy', '/spec/initContainers/-', { from: '/spec/containers/0' })])], errors: [undefined, CONFLICT] },
    { name: 'nested arrays: a shifted inner array', outcomes: [mutate('a', [remove('/spec/containers/0/env/0')]), mutate('b', [replace('/spec/containers/0/env/1/value', 'x')])], errors: [undefined, CONFLICT] },
    { name: 'nested arrays: an outer shift under an inner append', outcomes: [mutate('a', [remove('/spec/containers/0')]), mutate('b', [add('/spec/containers/1/env/-', { name: 'D', value: '4' })])], errors: [undefined, CONFLICT] },
    {
      name: 'nested arrays: a shift of one inner array and an append to another combine',
      outcomes: [mutate('a', [remove('/spec/containers/0/env/0')]), mutate('b', [add('/spec/containers/1/env/-', { name: 'D', value: '4' })])],
      errors: [undefined, undefined],
      result: (p) => ({ ...p, spec: { ...p.spec, containers: [{ ...p.spec.containers[0], env: [{ name: 'B', value: '2' }] }, { ...p.spec.containers[1], env: [{ name: 'C', value: '3' }, { name: 'D', value: '4' }] }] } }),
    },
    {
      name: 'same array, different policies, different elements, no shift: combine',
      outcomes: [mutate('a', [replace('/spec/containers/0/image', 'app:2')]), mutate('b', [replace('/spec/containers/1/image', 'log:2')])],
      errors: [undefined, undefined],
      result: (p) => ({ ...p, spec: { ...p.spec, containers: [{ ...p.spec.containers[0], image: 'app:2' }, { ...p.spec.containers[1], image: 'log:2' }] } }),
    },
    {
      name: 'same policy, several operations on one array, in its own order',
      outcomes: [mutate('a', [remove('/spec/containers/0'), replace('/spec/containers/0/image', 'log:2'), add('/spec/containers/0', { name: 'first' })])],
      errors: [undefined],
      result: (p) => ({ ...p, spec: { ...p.spec, containers: [{ name: 'first' }, { ...p.spec.containers[1], image: 'log:2' }] } }),
    },
    {
      name: 'the same remove from two policies is done once',
      outcomes: [mutate('a', [remove('/spec/containers/0')]), mutate('b', [remove('/spec/containers/0')])],
      errors: [undefined, undefined],
      result: (p) => ({ ...p, spec: { ...p.spec, containers: [p.spec.containers[1]] } }),
    },
    { name: 'a test of a shifted element conflicts', outcomes: [mutate('a', [remove('/spec/containers/0')]), mutate('b', [op('test', '/spec/containers/1/name', { value: 'log' })])], errors: [undefined, CONFLICT] },
    { name: 'replacing the whole array and appending to it conflict', outcomes: [mutate('a', [replace('/spec/containers', [])]), mutate('b', [add('/spec/containers/-', { name: 'sidecar' })])], errors: [undefined, CONFLICT] },
    { name: 'an object member named "-" is no append: two values conflict', outcomes: [mutate('a', [add('/metadata/labels/-', 'x')]), mutate('b', [add('/metadata/labels/-', 'y')])], errors: [undefined, CONFLICT] },
  ])('$name', ({ outcomes, errors, result }) => {
    const object = pod();
    const combined = combinePatches(object, outcomes);
    expect(combined.outcomes.map((o) => o.error?.code)).toEqual(errors);
    if (result) {
      const patched = fastJsonPatch.applyPatch(structuredClone(object), structuredClone(combined.patch) as fastJsonPatch.Operation[], true, true).newDocument;
      expect(patched).toEqual(result(pod()));
    }
    expect(object).toEqual(pod());
  });

  it('names the array and the reason in the conflict', () => {
    const [, refused] = combinePatches(pod(), [mutate('a', [remove('/spec/containers/0')]), mutate('b', [replace('/spec/containers/1/image', 'log:2')])]).outcomes;
    expect(refused?.error).toEqual({
      code: CONFLICT,
      class: 'conflict',
      message: "patch of /spec/containers/1/image conflicts with policy a's patch of /spec/containers/0: one inserts into or removes from the array /spec/containers, which shifts the other's indices",
    });
  });
});
