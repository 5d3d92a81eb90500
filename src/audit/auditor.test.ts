// The auditor against real OPA-built bundles and a fake cluster (discovery + pager in memory):
// the outcome→result mapping and its agreement with admission, Gatekeeper constraints at the
// audit point, incremental reuse, objects gone, every kind fault (403, 404 mid-list, 410,
// a restarting API server, invalid objects), the findings bound and decision events.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeReview } from '../admission/decode.js';
import { loadBundle, type LoadedBundle } from '../bundles/bundle.js';
import { createPolicySet, type PolicySet } from '../bundles/policy-set.js';
import { BouncerError } from '../errors/errors.js';
import type { NamespaceInfo } from '../gatekeeper/types.js';
import type { DecisionEvent } from '../review/decision-event.js';
import { createReviewer } from '../review/reviewer.js';
import { auditRequestUid } from './audit-review.js';
import { createAuditor, type AuditorDeps } from './auditor.js';
import type { ApiResource, ObjectPage, ObjectPager, PageOptions } from './cluster-access.js';

const CONFIGMAPS: ApiResource = { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true };
const SECRETS: ApiResource = { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true };
const NAMESPACES: ApiResource = { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false };
const CRONTABS: ApiResource = { group: 'example.com', version: 'v1', resource: 'crontabs', kind: 'CronTab', namespaced: true };

type Obj = Record<string, unknown>;
let counter = 0;
function cm(name: string, labels: Record<string, string> = {}, namespace = 'team-a', rv = '1'): Obj {
  counter += 1;
  return { metadata: { name, namespace, uid: `uid-${namespace}-${name}`, resourceVersion: rv, labels }, data: { n: String(counter) } };
}

/** A fake cluster: objects per resource, served in pages; faults injected per request number. */
class FakeCluster implements ObjectPager {
  readonly objects = new Map<string, Obj[]>();
  requests: string[] = [];
  /** resource → request index (0-based, per resource) → HTTP status to fail with (0: no answer). */
  faults = new Map<string, Map<number, number>>();
  private counts = new Map<string, number>();
  served: ApiResource[] = [CONFIGMAPS, SECRETS, NAMESPACES];

  discovery = { resources: async () => ({ resources: this.served, failures: [] as { groupVersion: string; message: string }[] }) };

  set(r: ApiResource, items: Obj[]): void {
    this.objects.set(r.resource, items);
  }

  pages(r: ApiResource, pageSize: number, options: PageOptions = {}): AsyncIterable<ObjectPage> {
    const items = this.objects.get(r.resource) ?? [];
    return {
      [Symbol.asyncIterator]: async function* (this: FakeCluster) {
        let at = options.continue ? Number(options.continue) : 0;
        do {
          const n = this.counts.get(r.resource) ?? 0;
          this.counts.set(r.resource, n + 1);
          this.requests.push(`${r.resource}@${at}`);
          const fault = this.faults.get(r.resource)?.get(n);
          if (fault !== undefined) {
            throw new BouncerError('CLUSTER_FAILED', `GET ${r.resource}: ${fault || 'connection refused'}`, { details: fault ? { httpStatus: fault } : {} });
          }
          const page = items.slice(at, at + pageSize);
          at += pageSize;
          yield { items: page, ...(at < items.length ? { continue: String(at) } : {}) };
        } while (at < items.length);
      }.bind(this),
    };
  }
}

function quietLog() {
  const lines: { level: string; obj: Obj; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj: obj as Obj, msg });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('the auditor', () => {
  let basic: LoadedBundle;
  let gk: LoadedBundle;
  beforeAll(async () => {
    basic = await loadBundle('basic', readFileSync(inject('bundles').basic as string));
    gk = await loadBundle('gk', readFileSync(inject('bundles')['gatekeeper-semantics'] as string));
  });

  // The fixture policies also judge DELETEs (operation, oldObject), so the build marks them not
  // auditable; the mapping tests audit them anyway (no marks), and one test below keeps the marks.
  const auditorFor = (set: PolicySet, cluster: FakeCluster, extra: Partial<AuditorDeps> = {}, options = {}) => {
    const log = quietLog();
    const auditor = createAuditor(
      { policies: () => set, discovery: cluster.discovery, pager: cluster, logger: log.logger, sleep: async () => undefined, notAuditable: () => [], ...extra },
      options,
    );
    return { auditor, log };
  };

  it("skips, by default, the policies the build marked not auditable, with the build's reason", async () => {
    const cluster = new FakeCluster();
    cluster.set(CONFIGMAPS, [cm('denied', { deny: 'true' })]);
    const log = quietLog();
    const auditor = createAuditor({ policies: () => createPolicySet([basic]), discovery: cluster.discovery, pager: cluster, logger: log.logger, sleep: async () => undefined });
    const run = await auditor.run();
    expect(run.notAuditable).toEqual([{ policy: 'deny-label', reason: expect.stringContaining('input.request.operation (test/fixtures/policy-sets/basic/deny-label/policy.rego:15)') }]);
    expect(run.findings.filter((f) => f.policy === 'deny-label' && f.result === 'fail')).toEqual([]);
  });

  it('maps each outcome to a result (deny→fail, dryrun→fail, warn→warn, a failing policy→error) and agrees with admission on every object', async () => {
    const set = createPolicySet([basic]);
    const cluster = new FakeCluster();
    const objects = [
      cm('plain'),
      cm('denied', { deny: 'true' }),
      cm('warned', { warn: 'true' }),
      cm('noticed', { notice: 'true' }),
      cm('dry', { dryrun: 'true' }),
      cm('broken', { 'break-closed': 'true' }),
      cm('broken-open', { 'break-open': 'true' }),
    ];
    cluster.set(CONFIGMAPS, objects);
    const { auditor } = auditorFor(set, cluster);
    const run = await auditor.run();
    const by = (name: string) => run.findings.filter((f) => f.resource.name === name).map((f) => [f.policy, f.result, f.enforcement]);
    expect(by('plain')).toEqual([]);
    expect(by('denied')).toEqual([['deny-label', 'fail', 'deny']]);
    expect(by('warned')).toEqual([['warn-label', 'warn', 'warn']]);
    expect(by('noticed')).toEqual([['warn-label', 'warn', 'warn']]);
    expect(by('dry')).toEqual([['dryrun-label', 'fail', 'dryrun']]);
    expect(by('broken')).toEqual([['broken-closed', 'error', expect.any(String)]]);
    expect(by('broken-open')).toEqual([['broken-open', 'error', expect.any(String)]]);
    expect(run.findings.find((f) => f.resource.name === 'denied')?.message).toBe('ConfigMap "denied" carries the deny label');
    expect(run.findings.find((f) => f.resource.name === 'denied')?.resource).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'team-a', name: 'denied', uid: 'uid-team-a-denied', resourceVersion: '1' });
    expect(run).toMatchObject({ objectsScanned: 7, objectsEvaluated: 7, objectsInvalid: 0, truncated: false, revision: set.revision, notAuditable: [] });
    expect(run.kinds).toEqual([{ kind: 'v1/ConfigMap', objects: 7 }]);
    // Every validating policy of the set passes the plain object: counted, not listed.
    const passed = run.passes.filter((p) => p.namespace === 'team-a').map((p) => [p.policy, p.count]);
    expect(passed).toContainEqual(['deny-label', 6]);
    expect(run.summary?.find((s) => s.policy === 'deny-label')).toMatchObject({ pass: 6, fail: 1, warn: 0, error: 0, enforcement: 'deny' });

    // Admission (the same reviewer factory, same set) on the same objects as CREATE requests: denied exactly where the audit has a deny fail or a fail-closed error.
    const admission = createReviewer({ policies: () => set });
    for (const o of objects) {
      const meta = o.metadata as { name: string; namespace: string };
      const bytes = new TextEncoder().encode(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: { uid: 'x', kind: { group: '', version: 'v1', kind: 'ConfigMap' }, resource: { group: '', version: 'v1', resource: 'configmaps' }, operation: 'CREATE', name: meta.name, namespace: meta.namespace, userInfo: { username: 'alice' }, object: { apiVersion: 'v1', kind: 'ConfigMap', ...o } },
        }),
      );
      const decision = await admission.review('validate', decodeReview(bytes), bytes);
      const denying = run.findings.filter((f) => f.resource.name === meta.name && ((f.result === 'fail' && f.enforcement === 'deny') || (f.result === 'error' && f.policy === 'broken-closed')));
      expect(!decision.allowed, meta.name).toBe(denying.length > 0);
      const warned = run.findings.filter((f) => f.resource.name === meta.name && f.result === 'warn').length;
      expect(decision.warnings.filter((w) => !w.includes('fail-open')).length > 0, meta.name).toBe(warned > 0);
    }
  });

  it('audits Gatekeeper constraints at audit.gatekeeper.sh, with the namespaceObject, as a CREATE without userInfo', async () => {
    const set = createPolicySet([gk]);
    const cluster = new FakeCluster();
    cluster.set(CONFIGMAPS, [cm('seen', { report: 'yes' }, 'team-s'), cm('warned', { report: 'yes' }, 'warned-1'), cm('dry', { report: 'yes' }, 'dry-1'), cm('boom', { explode: 'yes' }, 'team-s')]);
    const namespaces: Record<string, NamespaceInfo> = {
      'team-s': { name: 'team-s', labels: { selected: 'yes' } },
      'warned-1': { name: 'warned-1', labels: {} },
      'dry-1': { name: 'dry-1', labels: {} },
    };
    const { auditor } = auditorFor(set, cluster, { namespaces: (n) => namespaces[n] });
    const run = await auditor.run();
    const of = (name: string) => run.findings.filter((f) => f.resource.name === name).map((f) => `${f.policy}:${f.result}:${f.enforcement}`);
    // audit-only is scoped to the audit point: skipped by admission, audited here.
    expect(of('seen')).toEqual(['SeenReview/audit-only:fail:deny', 'SeenReview/denier:fail:deny', 'SeenReview/selected:fail:deny']);
    expect(of('warned')).toEqual(['SeenReview/audit-only:fail:deny', 'SeenReview/denier:fail:deny', 'SeenReview/warner:warn:warn']);
    expect(of('dry')).toEqual(['SeenReview/audit-only:fail:deny', 'SeenReview/denier:fail:deny', 'SeenReview/dry:fail:dryrun']);
    expect(of('boom').every((f) => f.endsWith(':error:deny'))).toBe(true);
    const msg = run.findings.find((f) => f.resource.name === 'seen' && f.policy === 'SeenReview/denier')?.message;
    expect(msg).toBe('deny saw CREATE seen in team-s, namespaceObject {"apiVersion": "v1", "kind": "Namespace", "metadata": {"labels": {"selected": "yes"}, "name": "team-s"}}');
    // Every constraint of the set is audited (CREATE is among its template's operations).
    expect(run.summary?.map((s) => `${s.policy}:${s.enforcement}`)).toEqual(['SeenReview/audit-only:deny', 'SeenReview/denier:deny', 'SeenReview/dry:dryrun', 'SeenReview/selected:deny', 'SeenReview/warner:warn']);
    // The constraint matching Namespaces lists them too.
    expect(run.kinds.map((k) => k.kind)).toEqual(['v1/ConfigMap', 'v1/Namespace']);
  });

  it('re-evaluates only objects whose resourceVersion, Namespace labels or policy set changed, and forgets objects gone', async () => {
    const cluster = new FakeCluster();
    const objects = [cm('a', { deny: 'true' }), cm('b'), cm('c', { deny: 'true' })];
    cluster.set(CONFIGMAPS, objects);
    let set = createPolicySet([basic]);
    const { auditor } = auditorFor(set, cluster, { policies: () => set });
    const first = await auditor.run();
    expect(first.objectsEvaluated).toBe(3);
    const second = await auditor.run();
    expect(second).toMatchObject({ objectsScanned: 3, objectsEvaluated: 0 });
    expect(second.findings.map((f) => f.resource.name)).toEqual(first.findings.map((f) => f.resource.name));
    // b updated (new resourceVersion) to violate; c deleted.
    cluster.set(CONFIGMAPS, [objects[0] as Obj, cm('b', { deny: 'true' }, 'team-a', '2')]);
    const third = await auditor.run();
    expect(third).toMatchObject({ objectsScanned: 2, objectsEvaluated: 1 });
    expect(third.findings.filter((f) => f.policy === 'deny-label').map((f) => f.resource.name)).toEqual(['a', 'b']);
    expect(auditor.remembered()).toBe(2);
    // Another policy set (same bundle under another name: another digest): everything again.
    set = createPolicySet([await loadBundle('basic-2', readFileSync(inject('bundles').basic as string))]);
    expect((await auditor.run()).objectsEvaluated).toBe(2);
  });

  it('re-evaluates objects of a Namespace whose labels changed when constraints may read them, and when the data version changes', async () => {
    const cluster = new FakeCluster();
    cluster.set(CONFIGMAPS, [cm('x', { report: 'yes' }, 'team-s'), cm('y', {}, 'other')]);
    const labels: Record<string, string> = {};
    let data = 'v1';
    const { auditor } = auditorFor(createPolicySet([gk]), cluster, { namespaces: (n) => ({ name: n, labels: n === 'team-s' ? labels : {} }), dataVersion: () => data });
    expect((await auditor.run()).findings.filter((f) => f.policy === 'SeenReview/selected')).toHaveLength(0);
    labels.selected = 'yes';
    const relabelled = await auditor.run();
    expect(relabelled.objectsEvaluated).toBe(1);
    expect(relabelled.findings.filter((f) => f.policy === 'SeenReview/selected').map((f) => f.resource.name)).toEqual(['x']);
    data = 'v2';
    expect((await auditor.run()).objectsEvaluated).toBe(2);
  });

  it('reports a forbidden kind and a kind deleted mid-list as errors and audits the rest', async () => {
    const cluster = new FakeCluster();
    cluster.served = [CONFIGMAPS, SECRETS, CRONTABS];
    cluster.set(CONFIGMAPS, [cm('a'), cm('b'), cm('c')]);
    cluster.set(CRONTABS, [cm('t1'), cm('t2'), cm('t3')]);
    cluster.faults.set('secrets', new Map([[0, 403]]));
    cluster.faults.set('crontabs', new Map([[1, 404]]));
    // A native policy over every kind (the starter wildcard case): deny-label matches ConfigMaps only, so widen with a constraint-free "*" scope.
    const set = createPolicySet([basic]);
    const wildcard = { ...set, bundles: set.bundles.map((b) => ({ ...b, policies: b.policies.map((p) => (p.meta.id === 'deny-label' ? { ...p, meta: { ...p.meta, scope: { ...p.meta.scope, kinds: [{ group: '*', kind: '*' }] } } } : p)) })) } as PolicySet;
    const { auditor, log } = auditorFor(wildcard, cluster, {}, { pageSize: 2 });
    const run = await auditor.run();
    expect(run.kinds).toEqual([
      { kind: 'example.com/v1/CronTab', objects: 2, error: { code: 'AUDIT_KIND_UNLISTABLE', message: expect.stringMatching(/^no longer served .*HTTP 404/) } },
      { kind: 'v1/ConfigMap', objects: 3 },
      { kind: 'v1/Secret', objects: 0, error: { code: 'AUDIT_KIND_UNLISTABLE', message: expect.stringMatching(/^forbidden \(HTTP 403\)/) } },
    ]);
    expect(run.objectsScanned).toBe(5);
    expect(log.lines.filter((l) => l.obj.code === 'AUDIT_KIND_UNLISTABLE').map((l) => l.obj.kind)).toEqual(['v1/Secret', 'example.com/v1/CronTab']);
  });

  it('lists a kind again after 410 Gone without evaluating objects twice, and resumes after a restarting API server', async () => {
    const cluster = new FakeCluster();
    const items = Array.from({ length: 7 }, (_, i) => cm(`o${i}`, i % 2 ? { deny: 'true' } : {}));
    cluster.set(CONFIGMAPS, items);
    // Request 2 (third page) expires; after the relist, requests 5 and 6 get no answer, then 503.
    cluster.faults.set('configmaps', new Map([[2, 410], [5, 0], [6, 503]]));
    const { auditor, log } = auditorFor(createPolicySet([basic]), cluster, {}, { pageSize: 2 });
    const run = await auditor.run();
    expect(run.kinds).toEqual([{ kind: 'v1/ConfigMap', objects: 7 }]);
    expect(run).toMatchObject({ objectsScanned: 7, objectsEvaluated: 7 });
    expect(run.findings.filter((f) => f.policy === 'deny-label').map((f) => f.resource.name)).toEqual(['o1', 'o3', 'o5']);
    expect(cluster.requests).toEqual(['configmaps@0', 'configmaps@2', 'configmaps@4', 'configmaps@0', 'configmaps@2', 'configmaps@4', 'configmaps@4', 'configmaps@4', 'configmaps@6']);
    expect(run.apiRequests).toBe(9);
    expect(log.lines.filter((l) => l.obj.code === 'AUDIT_LIST_EXPIRED')).toHaveLength(1);
    expect(log.lines.filter((l) => l.obj.code === 'CLUSTER_FAILED').map((l) => l.obj.attempt)).toEqual([1, 2]);
  });

  it('gives up on a kind that keeps failing, within the retry bound', async () => {
    const cluster = new FakeCluster();
    cluster.set(CONFIGMAPS, [cm('a')]);
    cluster.faults.set('configmaps', new Map(Array.from({ length: 10 }, (_, i) => [i, 500] as [number, number])));
    const { auditor } = auditorFor(createPolicySet([basic]), cluster, {}, { retries: 3 });
    const run = await auditor.run();
    expect(run.kinds[0]).toMatchObject({ kind: 'v1/ConfigMap', error: { code: 'AUDIT_KIND_UNLISTABLE', message: expect.stringMatching(/kept failing \(HTTP 500\)/) } });
    expect(cluster.requests).toHaveLength(4);
  });

  it('counts and logs objects that cannot be reviewed, and goes on', async () => {
    const cluster = new FakeCluster();
    const deep: Obj = { value: 1 };
    let at = deep;
    for (let i = 0; i < 10_100; i++) at = (at.next = {}) as Obj;
    cluster.set(CONFIGMAPS, [cm('ok', { deny: 'true' }), 'not an object' as unknown as Obj, { metadata: { name: 'no-uid', namespace: 'x' } }, { ...cm('too-deep'), deep }, cm('after', { deny: 'true' })]);
    const { auditor, log } = auditorFor(createPolicySet([basic]), cluster);
    const run = await auditor.run();
    expect(run.objectsInvalid).toBe(3);
    expect(run.findings.filter((f) => f.policy === 'deny-label').map((f) => f.resource.name)).toEqual(['after', 'ok']);
    expect(log.lines.filter((l) => l.obj.code === 'AUDIT_OBJECT_INVALID')).toHaveLength(3);
  });

  it('bounds the findings (sorted, truncated) while the summary keeps the totals', async () => {
    const cluster = new FakeCluster();
    cluster.set(CONFIGMAPS, Array.from({ length: 20 }, (_, i) => cm(`n${String(i).padStart(2, '0')}`, { deny: 'true' }, i % 2 ? 'ns-b' : 'ns-a')));
    const { auditor } = auditorFor(createPolicySet([basic]), cluster, {}, { maxFindings: 3 });
    const run = await auditor.run();
    expect(run.truncated).toBe(true);
    expect(run.findings.map((f) => `${f.resource.namespace}/${f.resource.name}`)).toEqual(['ns-a/n00', 'ns-a/n02', 'ns-a/n04']);
    expect(run.summary?.find((s) => s.policy === 'deny-label')?.fail).toBe(20);
  });

  it('skips the webhook-excluded namespaces, and reports policies marked not auditable once each, evaluating nothing for them', async () => {
    const cluster = new FakeCluster();
    cluster.set(CONFIGMAPS, [cm('a', { deny: 'true', warn: 'true' }), cm('sys', { deny: 'true' }, 'kube-system')]);
    const { auditor } = auditorFor(createPolicySet([basic]), cluster, { notAuditable: () => [{ policy: 'deny-label', reason: 'reads input.request.operation' }] }, { excludedNamespaces: ['kube-system'] });
    const run = await auditor.run();
    expect(run.notAuditable).toEqual([{ policy: 'deny-label', reason: 'reads input.request.operation' }]);
    expect(run.findings.map((f) => `${f.policy}:${f.resource.name}`)).toEqual(['warn-label:a']);
    expect(run.summary?.some((s) => s.policy === 'deny-label')).toBe(false);
    expect(run.objectsScanned).toBe(1);
  });

  it('leaves out policies whose scope never sees a CREATE of a main resource (named, with the reason) and mutation-only ones', async () => {
    const set = createPolicySet([basic]);
    const edited = {
      ...set,
      bundles: set.bundles.map((b) => ({
        ...b,
        policies: b.policies.map((p) =>
          p.meta.id === 'deny-label' ? { ...p, meta: { ...p.meta, scope: { ...p.meta.scope, operations: ['DELETE' as const] } } } : p.meta.id === 'warn-label' ? { ...p, meta: { ...p.meta, scope: { ...p.meta.scope, subresources: ['status'] } } } : p,
        ),
      })),
    } as PolicySet;
    const cluster = new FakeCluster();
    cluster.set(CONFIGMAPS, [cm('a', { deny: 'true', warn: 'true', dryrun: 'true' })]);
    const run = await auditorFor(edited, cluster).auditor.run();
    expect(run.notAuditable).toEqual([
      { policy: 'deny-label', reason: expect.stringContaining('its scope has no CREATE (operations: DELETE)') },
      { policy: 'warn-label', reason: expect.stringContaining('subresources only (status)') },
    ]);
    expect(run.findings.map((f) => f.policy)).toEqual(['dryrun-label']);
    expect(run.summary?.map((p) => p.policy)).not.toContain('patch-a');
  });

  it('records a decision event with audit_id for each object with findings, and links the findings to it', async () => {
    const cluster = new FakeCluster();
    cluster.set(CONFIGMAPS, [cm('a', { deny: 'true' }), cm('b')]);
    const events: DecisionEvent[] = [];
    const { auditor } = auditorFor(createPolicySet([basic]), cluster, { decisionLog: { active: true, record: (e) => events.push(e as DecisionEvent) }, newRunId: () => 'run-1' });
    const run = await auditor.run();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ audit_id: 'run-1', allowed: false, request: { name: 'a', namespace: 'team-a', operation: 'CREATE', uid: auditRequestUid('run-1', 'uid-team-a-a') } });
    expect(run.findings.every((f) => f.decisionId === events[0]?.decision_id)).toBe(true);
  });

  it('fails a run without a policy set, or when discovery fails, and when stopped', async () => {
    const cluster = new FakeCluster();
    cluster.set(CONFIGMAPS, [cm('a')]);
    const none = auditorFor(undefined as unknown as PolicySet, cluster, { policies: () => undefined }).auditor;
    await expect(none.run()).rejects.toMatchObject({ code: 'AUDIT_RUN_FAILED' });
    const broken = auditorFor(createPolicySet([basic]), cluster, { discovery: { resources: () => Promise.reject(new Error('down')) } }).auditor;
    await expect(broken.run()).rejects.toMatchObject({ code: 'AUDIT_RUN_FAILED', message: 'discovery failed: down' });
    const ac = new AbortController();
    ac.abort();
    await expect(auditorFor(createPolicySet([basic]), cluster).auditor.run(ac.signal)).rejects.toMatchObject({ code: 'AUDIT_RUN_FAILED' });
  });
});
