// The audit's list rules (manifests/base/rbac-audit.yaml) cover exactly the main resources the
// committed validating webhook matches: a kind added to the policies' scopes without a list
// rule would be reported unlistable by every audit run.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';

type Rule = { apiGroups: string[]; resources: string[]; verbs?: string[] };
const docs = (file: string) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; rules?: Rule[]; webhooks?: { rules: Rule[] }[] });
const pairs = (rules: Rule[]) => [...new Set(rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.filter((x) => !x.includes('/')).map((x) => `${g}/${x}`))))].sort();

describe('rbac-audit.yaml', () => {
  it('grants list on exactly the main resources of the validating webhook rules', () => {
    const hook = docs('manifests/base/webhooks.yaml').filter((d) => d.kind === 'ValidatingWebhookConfiguration');
    const wanted = pairs(hook.flatMap((d) => (d.webhooks ?? []).flatMap((w) => w.rules)));
    const role = docs('manifests/base/rbac-audit.yaml').find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'bouncer-audit');
    expect(role?.rules?.every((r) => r.verbs?.join() === 'list')).toBe(true);
    expect(pairs(role?.rules ?? [])).toEqual(wanted);
  });
});
