import { describe, expect, it } from 'vitest';
import type { JsonPatchOperation } from '../admission/types.js';
import type { FailureMode } from '../bundles/policy-metadata.js';
import { decide, type DecideInput } from './decide.js';
import type { PolicyAction, PolicyOutcome, RequestSummary } from './decision.js';

const request: RequestSummary = {
  uid: 'uid-1',
  kind: 'Pod',
  namespace: 'default',
  name: 'web',
  operation: 'CREATE',
  subResource: '',
  user: 'alice',
  dryRun: false,
};

const PATCH: JsonPatchOperation[] = [{ op: 'add', path: '/metadata/labels/team', value: 'x' }];

interface OutcomeSpec {
  failure?: FailureMode;
  violations?: string[];
  warnings?: string[];
  errorClass?: string;
}

function outcome(policy: string, action: PolicyAction, spec: OutcomeSpec = {}): PolicyOutcome {
  const enforcement = action === 'warn' || action === 'dryrun' ? action : 'deny';
  return {
    policy,
    bundle: 'main',
    enforcement,
    failure: spec.failure ?? 'fail-closed',
    action,
    violations: (spec.violations ?? []).map((msg) => ({ msg })),
    warnings: (spec.warnings ?? []).map((msg) => ({ msg })),
    ...(action === 'mutate' ? { patch: PATCH } : {}),
    ...(action === 'error' ? { error: { code: 'POLICY_EVAL_FAILED' as const, class: spec.errorClass ?? 'runtime', message: 'boom' } } : {}),
  };
}

function input(outcomes: PolicyOutcome[], over: Partial<DecideInput> = {}): DecideInput {
  return { id: 'dec-1', endpoint: 'validate', request, revision: 'rev-1', outcomes, durationMs: 2.5, ...over };
}

interface Expected {
  allowed: boolean;
  code?: number;
  message?: string;
  warnings: string[];
  annotations: Record<string, string>;
}

const base = (decision: 'allowed' | 'denied', revision = 'rev-1') => ({ decision, 'decision-id': 'dec-1', 'policy-set': revision });

describe('decide', () => {
  it.each<{ name: string; input: DecideInput; expected: Expected }>([
    {
      name: 'no policies in scope',
      input: input([]),
      expected: { allowed: true, warnings: [], annotations: base('allowed') },
    },
    {
      name: 'only passing policies',
      input: input([outcome('a', 'pass'), outcome('b', 'pass')]),
      expected: { allowed: true, warnings: [], annotations: base('allowed') },
    },
    {
      name: 'deny lists every violation',
      input: input([outcome('a', 'deny', { violations: ['m1', 'm2'] }), outcome('b', 'pass'), outcome('c', 'deny', { violations: ['m3'] })]),
      expected: {
        allowed: false,
        code: 403,
        message: 'bouncer denied the request: [a] m1; [a] m2; [c] m3',
        warnings: [],
        annotations: { ...base('denied'), 'denied-by': 'a,c' },
      },
    },
    {
      name: 'deny keeps its warn-rule warnings',
      input: input([outcome('a', 'deny', { violations: ['bad'], warnings: ['careful'] })]),
      expected: { allowed: false, code: 403, message: 'bouncer denied the request: [a] bad', warnings: ['[a] careful'], annotations: { ...base('denied'), 'denied-by': 'a' } },
    },
    {
      name: 'warn enforcement admits with warnings',
      input: input([outcome('w', 'warn', { violations: ['v1'], warnings: ['w1'] })]),
      expected: { allowed: true, warnings: ['[w] v1', '[w] w1'], annotations: { ...base('allowed'), 'warned-by': 'w' } },
    },
    {
      name: 'dryrun admits silently and records the violations',
      input: input([outcome('d', 'dryrun', { violations: ['v1'], warnings: ['w1'] }), outcome('e', 'dryrun', { violations: ['v2'] })]),
      expected: {
        allowed: true,
        warnings: [],
        annotations: { ...base('allowed'), 'dryrun-violations': 'd,e', 'dryrun-messages': '[d] v1; [d] w1; [e] v2' },
      },
    },
    {
      name: 'a fail-closed error denies with 500',
      input: input([outcome('e', 'error', { errorClass: 'runtime' })]),
      expected: {
        allowed: false,
        code: 500,
        message: 'bouncer denied the request: [e] policy failed to evaluate (runtime): boom',
        warnings: [],
        annotations: { ...base('denied'), 'denied-by': 'e', 'policy-errors': 'e:runtime:fail-closed' },
      },
    },
    {
      name: 'a policy denial with a fail-closed error denies with 403',
      input: input([outcome('a', 'deny', { violations: ['bad'] }), outcome('e', 'error', { errorClass: 'memory' })]),
      expected: {
        allowed: false,
        code: 403,
        message: 'bouncer denied the request: [a] bad; [e] policy failed to evaluate (memory): boom',
        warnings: [],
        annotations: { ...base('denied'), 'denied-by': 'a,e', 'policy-errors': 'e:memory:fail-closed' },
      },
    },
    {
      name: 'a fail-open error admits with a warning',
      input: input([outcome('e', 'error', { failure: 'fail-open', errorClass: 'builtin' })]),
      expected: {
        allowed: true,
        warnings: ['[e] policy failed to evaluate; admitted because it is fail-open'],
        annotations: { ...base('allowed'), 'policy-errors': 'e:builtin:fail-open' },
      },
    },
    {
      name: 'no active policy set denies',
      input: input([], { revision: undefined }),
      expected: { allowed: false, code: 500, message: 'bouncer denied the request: no policy set is active yet', warnings: [], annotations: base('denied', 'none') },
    },
    {
      name: 'everything at once',
      input: input([
        outcome('a', 'warn', { violations: ['w'] }),
        outcome('b', 'dryrun', { violations: ['d'] }),
        outcome('c', 'error', { failure: 'fail-open' }),
        outcome('d', 'error', { failure: 'fail-closed', errorClass: 'result' }),
        outcome('m', 'mutate'),
      ]),
      expected: {
        allowed: false,
        code: 500,
        message: 'bouncer denied the request: [d] policy failed to evaluate (result): boom',
        warnings: ['[a] w', '[c] policy failed to evaluate; admitted because it is fail-open'],
        annotations: {
          ...base('denied'),
          'denied-by': 'd',
          'warned-by': 'a',
          'dryrun-violations': 'b',
          'dryrun-messages': '[b] d',
          'mutated-by': 'm',
          'policy-errors': 'c:runtime:fail-open,d:result:fail-closed',
        },
      },
    },
  ])('$name', ({ input: given, expected }) => {
    const d = decide(given);
    expect(d.allowed).toBe(expected.allowed);
    expect(d.code).toBe(expected.code);
    expect(d.message).toBe(expected.message);
    expect(d.warnings).toEqual(expected.warnings);
    expect(d.auditAnnotations).toEqual(expected.annotations);
  });

  it.each<{ name: string; outcomes: PolicyOutcome[]; revision: string | undefined; patch: JsonPatchOperation[] | undefined; expected: JsonPatchOperation[] | undefined }>([
    { name: 'an allowed mutation carries the patch', outcomes: [outcome('m', 'mutate')], revision: 'rev-1', patch: PATCH, expected: PATCH },
    { name: 'an empty patch is omitted', outcomes: [outcome('m', 'pass')], revision: 'rev-1', patch: [], expected: undefined },
    { name: 'no patch given', outcomes: [outcome('m', 'pass')], revision: 'rev-1', patch: undefined, expected: undefined },
    { name: 'a policy denial drops the patch', outcomes: [outcome('m', 'mutate'), outcome('a', 'deny', { violations: ['x'] })], revision: 'rev-1', patch: PATCH, expected: undefined },
    { name: 'a fail-closed error drops the patch', outcomes: [outcome('m', 'mutate'), outcome('e', 'error')], revision: 'rev-1', patch: PATCH, expected: undefined },
    { name: 'no policy set drops the patch', outcomes: [], revision: undefined, patch: PATCH, expected: undefined },
  ])('patch: $name', ({ outcomes, revision, patch, expected }) => {
    const d = decide(input(outcomes, { endpoint: 'mutate', revision, ...(patch ? { patch } : {}) }));
    if (expected === undefined) expect(d).not.toHaveProperty('patch');
    else expect(d.patch).toEqual(expected);
  });

  it('records mutated-by on the mutate endpoint', () => {
    const d = decide(input([outcome('m', 'mutate'), outcome('n', 'mutate')], { endpoint: 'mutate', patch: PATCH }));
    expect(d.auditAnnotations['mutated-by']).toBe('m,n');
    expect(d.auditAnnotations.decision).toBe('allowed');
  });

  it('lists a policy id once when it appears in several bundles', () => {
    const d = decide(input([outcome('a', 'deny', { violations: ['x'] }), { ...outcome('a', 'deny', { violations: ['y'] }), bundle: 'other' }]));
    expect(d.auditAnnotations['denied-by']).toBe('a');
    expect(d.message).toBe('bouncer denied the request: [a] x; [a] y');
  });

  it('passes the request, outcomes and timing through', () => {
    const outcomes = [outcome('a', 'pass')];
    const d = decide(input(outcomes, { endpoint: 'mutate', durationMs: 7.25 }));
    expect(d).toMatchObject({ id: 'dec-1', endpoint: 'mutate', request, revision: 'rev-1', durationMs: 7.25 });
    expect(d.outcomes).toBe(outcomes);
  });
});
