import { describe, expect, it } from 'vitest';
import { LAST_APPLIED, projectNamespace, type NamespaceMetadata } from './namespace-projection.js';

describe('projectNamespace', () => {
  it('keeps the name, labels and annotations only, in fresh frozen objects', () => {
    const labels = { team: 'a', 'kubernetes.io/metadata.name': 'apps' };
    const annotations = { owner: 'alice' };
    const metadata = { name: 'apps', labels, annotations, uid: 'u-1', managedFields: [{ manager: 'kubectl' }], finalizers: ['x'] };
    const { info, annotationsDropped } = projectNamespace(metadata);
    expect(info).toEqual({ name: 'apps', labels, annotations });
    expect(Object.keys(info).sort()).toEqual(['annotations', 'labels', 'name']);
    expect(annotationsDropped).toBe(false);
    // Copies: the received object can be dropped, and changing it later changes nothing.
    expect(info.labels).not.toBe(labels);
    labels.team = 'changed';
    expect(info.labels.team).toBe('a');
    expect(Object.isFrozen(info) && Object.isFrozen(info.labels) && Object.isFrozen(info.annotations)).toBe(true);
  });

  it.each<{ case: string; metadata: NamespaceMetadata; want: unknown }>([
    { case: 'no labels or annotations', metadata: { name: 'empty' }, want: { name: 'empty', labels: {} } },
    { case: 'null labels and annotations', metadata: { name: 'n', labels: null, annotations: null }, want: { name: 'n', labels: {} } },
    { case: 'only the last-applied annotation', metadata: { name: 'k', annotations: { [LAST_APPLIED]: '{"kind":"Namespace"}' } }, want: { name: 'k', labels: {} } },
    {
      case: 'last-applied dropped, the others kept',
      metadata: { name: 'k', annotations: { [LAST_APPLIED]: '{}', owner: 'bob' } },
      want: { name: 'k', labels: {}, annotations: { owner: 'bob' } },
    },
    { case: 'non-string values ignored', metadata: { name: 'v', labels: { a: 'x', b: 3 as unknown as string } }, want: { name: 'v', labels: { a: 'x' } } },
  ])('$case', ({ metadata, want }) => {
    expect(projectNamespace(metadata).info).toStrictEqual(want);
  });

  it('drops all annotations (never a part of them) when they are over the bound, and says so', () => {
    const annotations = { small: 'x', big: 'y'.repeat(100) };
    const over = projectNamespace({ name: 'a', labels: { l: '1' }, annotations }, 50);
    expect(over).toStrictEqual({ info: { name: 'a', labels: { l: '1' } }, annotationsDropped: true });
    // Keys and values count; exactly at the bound is kept.
    const size = 'small'.length + 1 + 'big'.length + 100;
    expect(projectNamespace({ name: 'a', annotations }, size)).toMatchObject({ info: { annotations }, annotationsDropped: false });
    expect(projectNamespace({ name: 'a', annotations }, size - 1).annotationsDropped).toBe(true);
  });

  it('does not count the dropped last-applied annotation against the bound', () => {
    const { info, annotationsDropped } = projectNamespace({ name: 'a', annotations: { [LAST_APPLIED]: 'z'.repeat(1000), owner: 'o' } }, 10);
    expect(annotationsDropped).toBe(false);
    expect(info.annotations).toEqual({ owner: 'o' });
  });
});
