import { describe, expect, it } from 'vitest';
import { redactObject } from './redact.js';

describe('redactObject', () => {
  it('masks Secret data and stringData and lists the paths', () => {
    const secret = { kind: 'Secret', metadata: { name: 's' }, data: { password: 'aHVudGVyMg==' }, stringData: { 'a/b': 'x' } };
    const { value, masked } = redactObject(secret, [], '/object');
    expect(value).toEqual({ kind: 'Secret', metadata: { name: 's' }, data: { password: '**REDACTED**' }, stringData: { 'a/b': '**REDACTED**' } });
    expect(masked).toEqual(['/object/data/password', '/object/stringData/a~1b']);
    expect(secret.data.password).toBe('aHVudGVyMg==');
  });

  it('masks every container env value at any depth, keeping valueFrom', () => {
    const deployment = {
      kind: 'Deployment',
      spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'TOKEN', value: 't0p' }, { name: 'REF', valueFrom: { secretKeyRef: { name: 'x', key: 'y' } } }] }] } } },
    };
    const { value, masked } = redactObject(deployment);
    expect(JSON.stringify(value)).not.toContain('t0p');
    expect(JSON.stringify(value)).toContain('secretKeyRef');
    expect(masked).toEqual(['/spec/template/spec/containers/0/env/0/value']);
  });

  it('masks configured JSON pointers that exist, and ignores those that do not', () => {
    const { value, masked } = redactObject({ kind: 'ConfigMap', data: { token: 'abc', other: 'ok' } }, ['/data/token', '/data/missing']);
    expect(value).toEqual({ kind: 'ConfigMap', data: { token: '**REDACTED**', other: 'ok' } });
    expect(masked).toEqual(['/data/token']);
  });
});
