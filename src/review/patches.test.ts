import { describe, expect, it } from 'vitest';
import type { JsonPatchOperation } from '../admission/types.js';
import type { PolicyOutcome } from './decision.js';
import { combinePatches } from './patches.js';

function mutate(policy: string, patch: JsonPatchOperation[]): PolicyOutcome {
  return { policy, bundle: 'b', enforcement: 'deny', failure: 'fail-closed', action: 'mutate', violations: [], warnings: [], patch };
}

function other(policy: string, action: PolicyOutcome['action']): PolicyOutcome {
  return { policy, bundle: 'b', enforcement: 'deny', failure: 'fail-open', action, violations: [{ msg: 'm' }], warnings: [] };
}

const pod = () => ({
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image: 'nginx:1' }] },
});

const add = (path: string, value: unknown): JsonPatchOperation => ({ op: 'add', path, value });

type Expected = { patch: JsonPatchOperation[]; actions: string[]; errors: (string | undefined)[] };

describe('combinePatches', () => {
  it.each<{ name: string; object: unknown; outcomes: PolicyOutcome[]; expected: Expected }>([
    {
      name: 'different paths combine in order',
      object: pod(),
      outcomes: [mutate('a', [add('/metadata/labels/team', 'x')]), mutate('b', [add('/metadata/annotations', { note: 'y' })])],
      expected: { patch: [add('/metadata/labels/team', 'x'), add('/metadata/annotations', { note: 'y' })], actions: ['mutate', 'mutate'], errors: [undefined, undefined] },
    },
    {
      name: 'identical operations are deduplicated',
      object: pod(),
      outcomes: [mutate('a', [add('/metadata/labels/team', 'x')]), mutate('b', [add('/metadata/labels/team', 'x')])],
      expected: { patch: [add('/metadata/labels/team', 'x')], actions: ['mutate', 'mutate'], errors: [undefined, undefined] },
    },
    {
      name: 'identical operations are deduplicated, the rest applied',
      object: pod(),
      outcomes: [mutate('a', [add('/metadata/labels/team', 'x')]), mutate('b', [add('/metadata/labels/team', 'x'), add('/metadata/labels/tier', 'web')])],
      expected: { patch: [add('/metadata/labels/team', 'x'), add('/metadata/labels/tier', 'web')], actions: ['mutate', 'mutate'], errors: [undefined, undefined] },
    },
    {
      name: 'moving a path another policy wrote conflicts',
      object: pod(),
      outcomes: [
        mutate('a', [{ op: 'replace', path: '/metadata/labels/app', value: 'x' }]),
        mutate('b', [{ op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/owner' }]),
      ],
      expected: { patch: [{ op: 'replace', path: '/metadata/labels/app', value: 'x' }], actions: ['mutate', 'error'], errors: [undefined, 'POLICY_PATCH_CONFLICT'] },
    },
    {
      name: 'moving a path another policy created is invalid: it is not in the object',
      object: pod(),
      outcomes: [
        mutate('a', [add('/metadata/labels/team', 'x')]),
        mutate('b', [{ op: 'move', from: '/metadata/labels/team', path: '/metadata/labels/owner' }]),
      ],
      expected: { patch: [add('/metadata/labels/team', 'x')], actions: ['mutate', 'error'], errors: [undefined, 'POLICY_PATCH_INVALID'] },
    },
    {
      name: 'same path with a different value conflicts',
      object: pod(),
      outcomes: [mutate('a', [add('/metadata/labels/team', 'x')]), mutate('b', [add('/metadata/labels/team', 'y')])],
      expected: { patch: [add('/metadata/labels/team', 'x')], actions: ['mutate', 'error'], errors: [undefined, 'POLICY_PATCH_CONFLICT'] },
    },
    {
      name: 'a conflict excludes all of the policy operations',
      object: pod(),
      outcomes: [mutate('a', [add('/metadata/labels/team', 'x')]), mutate('b', [add('/metadata/labels/tier', 'web'), add('/metadata/labels/team', 'y')])],
      expected: { patch: [add('/metadata/labels/team', 'x')], actions: ['mutate', 'error'], errors: [undefined, 'POLICY_PATCH_CONFLICT'] },
    },
    {
      name: 'a child path after its parent conflicts',
      object: pod(),
      outcomes: [mutate('a', [add('/metadata/labels', { team: 'x' })]), mutate('b', [add('/metadata/labels/tier', 'web')])],
      expected: { patch: [add('/metadata/labels', { team: 'x' })], actions: ['mutate', 'error'], errors: [undefined, 'POLICY_PATCH_CONFLICT'] },
    },
    {
      name: 'a parent path after its child conflicts',
      object: pod(),
      outcomes: [mutate('a', [add('/metadata/labels/tier', 'web')]), mutate('b', [{ op: 'remove', path: '/metadata/labels' }])],
      expected: { patch: [add('/metadata/labels/tier', 'web')], actions: ['mutate', 'error'], errors: [undefined, 'POLICY_PATCH_CONFLICT'] },
    },
    {
      name: 'a sibling sharing a name prefix does not conflict',
      object: pod(),
      outcomes: [mutate('a', [add('/metadata/labels/team', 'x')]), mutate('b', [add('/metadata/labels/team2', 'y')])],
      expected: { patch: [add('/metadata/labels/team', 'x'), add('/metadata/labels/team2', 'y')], actions: ['mutate', 'mutate'], errors: [undefined, undefined] },
    },
    {
      name: 'a replace of a missing path is invalid',
      object: pod(),
      outcomes: [mutate('a', [{ op: 'replace', path: '/spec/missing', value: 1 }]), mutate('b', [add('/metadata/labels/team', 'x')])],
      expected: { patch: [add('/metadata/labels/team', 'x')], actions: ['error', 'mutate'], errors: ['POLICY_PATCH_INVALID', undefined] },
    },
    {
      name: 'a failing test operation is invalid and nothing of it is applied',
      object: pod(),
      outcomes: [mutate('a', [add('/metadata/labels/team', 'x'), { op: 'test', path: '/metadata/name', value: 'other' }])],
      expected: { patch: [], actions: ['error'], errors: ['POLICY_PATCH_INVALID'] },
    },
    {
      name: 'a refused patch does not block a later policy on the same path',
      object: pod(),
      outcomes: [mutate('a', [{ op: 'replace', path: '/spec/missing', value: 1 }]), mutate('b', [add('/spec/missing', 2)])],
      expected: { patch: [add('/spec/missing', 2)], actions: ['error', 'mutate'], errors: ['POLICY_PATCH_INVALID', undefined] },
    },
    {
      name: "a patch that only applies on top of another policy's is invalid",
      object: pod(),
      outcomes: [mutate('a', [add('/spec/containers/-', { name: 'sidecar' })]), mutate('b', [{ op: 'replace', path: '/spec/containers/1/name', value: 'proxy' }])],
      expected: { patch: [add('/spec/containers/-', { name: 'sidecar' })], actions: ['mutate', 'error'], errors: [undefined, 'POLICY_PATCH_INVALID'] },
    },
    {
      name: 'a missing object is patched as {}',
      object: undefined,
      outcomes: [mutate('a', [add('/metadata', {})])],
      expected: { patch: [add('/metadata', {})], actions: ['mutate'], errors: [undefined] },
    },
    {
      name: 'outcomes that are not mutate pass through',
      object: pod(),
      outcomes: [other('d', 'deny'), other('w', 'warn'), other('e', 'error'), mutate('m', [add('/metadata/labels/team', 'x')]), other('p', 'pass')],
      expected: { patch: [add('/metadata/labels/team', 'x')], actions: ['deny', 'warn', 'error', 'mutate', 'pass'], errors: [undefined, undefined, undefined, undefined, undefined] },
    },
  ])('$name', ({ object, outcomes, expected }) => {
    const result = combinePatches(object, outcomes);
    expect(result.patch).toEqual(expected.patch);
    expect(result.outcomes.map((o) => o.action)).toEqual(expected.actions);
    expect(result.outcomes.map((o) => o.error?.code)).toEqual(expected.errors);
  });

  it('describes a conflict and keeps the rest of the outcome', () => {
    const b = mutate('b', [add('/metadata/labels/team', 'y')]);
    const [, refused] = combinePatches(pod(), [mutate('a', [add('/metadata/labels/team', 'x')]), b]).outcomes;
    expect(refused).toEqual({
      ...b,
      action: 'error',
      error: {
        code: 'POLICY_PATCH_CONFLICT',
        class: 'conflict',
        message: "patch of /metadata/labels/team conflicts with policy a's patch of /metadata/labels/team",
      },
    });
  });

  it('describes a patch that does not apply', () => {
    const [refused] = combinePatches(pod(), [mutate('a', [{ op: 'replace', path: '/spec/missing', value: 1 }])]).outcomes;
    expect(refused?.error?.class).toBe('invalid');
    expect(refused?.error?.message).toMatch(/^patch does not apply: /);
    expect(refused?.error?.message).not.toContain('\n');
  });

  it('does not mutate the original object', () => {
    const object = pod();
    const before = structuredClone(object);
    combinePatches(object, [
      mutate('a', [add('/metadata/labels/team', 'x'), { op: 'remove', path: '/spec/containers/0/image' }]),
      mutate('b', [{ op: 'replace', path: '/metadata/name', value: 'renamed' }]),
    ]);
    expect(object).toEqual(before);
  });

  it('returns non-mutate outcomes and unchanged mutate outcomes as the same objects', () => {
    const outcomes = [other('d', 'deny'), mutate('m', [add('/metadata/labels/team', 'x')]), { ...mutate('n', []), patch: undefined }];
    const result = combinePatches(pod(), outcomes);
    result.outcomes.forEach((o, i) => expect(o).toBe(outcomes[i]));
  });
});
