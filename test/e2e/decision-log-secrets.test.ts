// With --decision-log-input, no secret value reaches the decision-log sink, bouncer's
// output or its spool, whatever copy of it the API server sends: Secrets and Pods written
// with `kubectl apply` (client-side, so every object carries its whole self again in the
// last-applied-configuration annotation), updated (oldObject and object) and deleted, as the
// real API server sends them to bouncer as its validating and mutating webhook.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { kubectl } from '../support/kubectl.js';
import { createNamespace, deleteWebhooks, kubeFor, registerMutatingWebhook, registerValidatingWebhook, uniqueName, waitFor } from '../support/kube.js';
import { startSink, type Sink } from '../support/sink.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Every secret value the objects below carry, one per place it can be written. */
const SECRETS = {
  data: 'e2e-data-s3cret-v1',
  stringData: 'e2e-stringdata-s3cret-v1',
  dataUpdated: 'e2e-data-s3cret-v2',
  stringDataUpdated: 'e2e-stringdata-s3cret-v2',
  podEnv: 'e2e-pod-env-s3cret',
  podEnvQuoted: 'e2e-pod "quoted" s3cret',
  configMapMasked: 'e2e-configmap-t0ken',
};
/** Not secret: must reach the sink (the input is really there). */
const VISIBLE = 'e2e-visible-colour';

const secretYaml = (data: string, stringData: string) => `
apiVersion: v1
kind: Secret
metadata: {name: creds}
type: Opaque
data: {password: ${b64(data)}}
stringData: {token: ${JSON.stringify(stringData)}}
`;

const podYaml = (note: string) => `
apiVersion: v1
kind: Pod
metadata: {name: app, annotations: {note: ${note}}}
spec:
  containers:
  - name: app
    image: registry.example/app:1
    env:
    - {name: TOKEN, value: ${JSON.stringify(SECRETS.podEnv)}}
    - {name: QUOTED, value: ${JSON.stringify(SECRETS.podEnvQuoted)}}
    - name: FROM_SECRET
      valueFrom: {secretKeyRef: {name: creds, key: password}}
`;

const configMapYaml = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {api-token: ${SECRETS.configMapMasked}, colour: ${VISIBLE}}
`;

type Event = {
  endpoint: string;
  request: { kind: string; name: string; operation: string };
  input?: { object: unknown; oldObject: unknown };
  masked?: string[];
};

/** The ways a value can be written down: as is, JSON-escaped, base64. */
const forms = (value: string) => [value, JSON.stringify(value).slice(1, -1), b64(value)];

describe.skipIf(inject('externalCluster'))('decision log input with secrets written by kubectl apply', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const ns = uniqueName('dlsecret');
  const hook = uniqueName('dlsecret');
  const spool = mkdtempSync(join(tmpdir(), 'bouncer-dlsecret-spool-'));
  let sink: Sink;
  let bouncer: BouncerProcess;
  const apply = (yaml: string) => {
    const result = kubectl(state, ['apply', '-n', ns, '-f', '-'], yaml);
    expect(result.stderr).toBe('');
  };
  const eventsFor = (kind: string, name: string, operation: string) =>
    (sink.events as unknown as Event[]).filter((e) => e.request.kind === kind && e.request.name === name && e.request.operation === operation);

  beforeAll(async () => {
    sink = await startSink();
    await createNamespace(kube, ns);
    bouncer = await startBouncer({ basic: inject('bundles').basic as string }, [
      '--decision-log-url', sink.url,
      '--decision-log-input',
      '--decision-log-mask', '/data/api-token',
      '--decision-log-spool', spool,
      '--log-level', 'debug',
    ]);
    const rules = [{ apiGroups: [''], apiVersions: ['v1'], resources: ['secrets', 'pods', 'configmaps'], operations: ['CREATE', 'UPDATE', 'DELETE'] as string[] }];
    const common = { caPem: bouncer.caPem, rules, namespaces: [ns] };
    await registerMutatingWebhook(kube, { name: hook, url: `${bouncer.url}/mutate`, ...common });
    await registerValidatingWebhook(kube, { name: hook, url: `${bouncer.url}/validate`, ...common });
    await waitFor(
      () => {
        kubectl(state, ['create', 'configmap', 'probe', '-n', ns, '--dry-run=server']);
        const probes = (sink.events as unknown as Event[]).filter((e) => e.request.name === 'probe');
        return probes.some((e) => e.endpoint === 'mutate') && probes.some((e) => e.endpoint === 'validate');
      },
      20_000,
      'webhooks in effect',
    );
  }, 60_000);

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await bouncer?.stop();
    await sink?.close();
    kubectl(state, ['delete', 'namespace', ns, '--wait=false']);
    rmSync(spool, { recursive: true, force: true });
  });

  it('ships the input of every write with no secret value in it, and writes none to stdout or the spool', async () => {
    apply(secretYaml(SECRETS.data, SECRETS.stringData));
    apply(secretYaml(SECRETS.dataUpdated, SECRETS.stringDataUpdated));
    apply(podYaml('first'));
    apply(podYaml('second'));
    apply(configMapYaml);
    expect(kubectl(state, ['delete', 'secret', 'creds', '-n', ns]).code).toBe(0);

    const writes: [string, string, string][] = [
      ['v1/Secret', 'creds', 'CREATE'],
      ['v1/Secret', 'creds', 'UPDATE'],
      ['v1/Secret', 'creds', 'DELETE'],
      ['v1/Pod', 'app', 'CREATE'],
      ['v1/Pod', 'app', 'UPDATE'],
      ['v1/ConfigMap', 'settings', 'CREATE'],
    ];
    // The validating and the mutating webhook each see every write.
    await waitFor(() => writes.every(([kind, name, op]) => eventsFor(kind, name, op).length >= 2), 20_000, 'decision events of every write delivered');
    // Nothing secret anywhere, in any form (the base64 of a Secret's data is as good as the value).
    const sunk = JSON.stringify(sink.events);
    const logs = bouncer.logs();
    const spooled = readdirSync(spool).map((f) => readFileSync(join(spool, f), 'utf8')).join('\n');
    expect(logs.split('\n').filter((l) => l.includes('"log":"decision"')).length).toBeGreaterThanOrEqual(writes.length * 2);
    for (const value of Object.values(SECRETS)) {
      for (const form of forms(value)) {
        expect(sunk, `sink payload holds ${form}`).not.toContain(form);
        expect(logs, `bouncer output holds ${form}`).not.toContain(form);
        expect(spooled, `spool holds ${form}`).not.toContain(form);
      }
    }
    // Positive controls: the input is there, with the annotation kubectl wrote, masked.
    const lastApplied = '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration';
    const created = eventsFor('v1/Secret', 'creds', 'CREATE')[0];
    expect(created?.masked).toEqual(expect.arrayContaining(['/object/data/password', '/object/data/token', `/object${lastApplied}`]));
    const updated = eventsFor('v1/Secret', 'creds', 'UPDATE')[0];
    expect(updated?.masked).toEqual(expect.arrayContaining([`/object${lastApplied}`, `/oldObject${lastApplied}`, '/oldObject/data/password']));
    expect(eventsFor('v1/Secret', 'creds', 'DELETE')[0]?.masked).toEqual(expect.arrayContaining([`/oldObject${lastApplied}`, '/oldObject/data/password']));
    const pod = eventsFor('v1/Pod', 'app', 'UPDATE')[0];
    expect(pod?.masked).toEqual(expect.arrayContaining(['/object/spec/containers/0/env/0/value', '/object/spec/containers/0/env/1/value', `/object${lastApplied}`, `/oldObject${lastApplied}`]));
    expect(JSON.stringify(pod?.input)).toContain('secretKeyRef');
    expect(JSON.stringify(sink.events)).toContain(VISIBLE);
  });
});
