// bouncer's spans joined to the kube-apiserver's trace: a control plane of its own (the
// shared one has no tracing) is started with a TracingConfiguration that samples every
// request and exports over OTLP/gRPC to the in-test receiver; bouncer exports over OTLP/HTTP
// to the same receiver. A ConfigMap write goes through bouncer as validating webhook, and
// bouncer's server span must be the child of a span the API server exported, in its trace.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { startControlPlane, stopControlPlane, type ControlPlaneState } from '../../hack/lib/control-plane.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { createNamespace, kubeFor, registerValidatingWebhook, uniqueName, type Kube } from '../support/kube.js';

describe.skipIf(inject('externalCluster'))("tracing joined to the API server's", () => {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-e2e-tracing-'));
  let receiver: OtlpReceiver;
  let plane: ControlPlaneState;
  let kube: Kube;
  let bouncer: BouncerProcess;
  const ns = uniqueName('traced');

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const config = join(dir, 'tracing.yaml');
    // https://kubernetes.io/docs/concepts/cluster-administration/system-traces/
    writeFileSync(config, `apiVersion: apiserver.config.k8s.io/v1\nkind: TracingConfiguration\nendpoint: ${receiver.grpcEndpoint}\nsamplingRatePerMillion: 1000000\n`);
    plane = await startControlPlane({ dir: join(dir, 'plane'), apiserverArgs: [`--tracing-config-file=${config}`] });
    kube = kubeFor(plane);
    bouncer = await startBouncer({ basic: inject('bundles').basic as string }, ['--otlp-traces-endpoint', receiver.httpUrl, '--otel-service-name', 'bouncer-e2e']);
    await createNamespace(kube, ns);
    await registerValidatingWebhook(kube, {
      name: uniqueName('traced'),
      url: `${bouncer.url}/validate`,
      caPem: bouncer.caPem,
      rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE'] }],
      namespaces: [ns],
    });
  }, 240_000);

  afterAll(async () => {
    await bouncer?.stop();
    await stopControlPlane(join(dir, 'plane'));
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("exports bouncer's webhook span as the child of the API server's span, in the API server's trace", async () => {
    const uid = uniqueName('cm');
    // The webhook may take a moment to be in effect: write until bouncer has seen one.
    let denied = false;
    for (let i = 0; i < 40 && !denied; i++) {
      const name = `${uid}-${i}`;
      denied = await kube.core
        .createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { deny: 'true' } } } })
        .then(() => false, (err: { body?: string; code?: number }) => String(err.body ?? '').includes('deny-label'));
      if (!denied) await new Promise((r) => setTimeout(r, 250));
    }
    expect(denied).toBe(true);

    const bouncerServer = (spans: readonly ReceivedSpan[]) => spans.filter((s) => s.service === 'bouncer-e2e' && s.name === 'POST /validate' && s.attributes['admission.request.namespace'] === ns);
    const joined = (spans: readonly ReceivedSpan[]) =>
      bouncerServer(spans).find((b) => spans.some((a) => a.service === 'apiserver' && a.traceId === b.traceId && a.spanId === b.parentSpanId));
    await receiver.waitFor((spans) => joined(spans) !== undefined, 45_000);
    const span = joined(receiver.spans) as ReceivedSpan;
    const parent = receiver.spans.find((a) => a.service === 'apiserver' && a.spanId === span.parentSpanId) as ReceivedSpan;
    console.log(`bouncer span ${span.spanId} under API server span "${parent.name}" (kind ${parent.kind}) in trace ${span.traceId}`);
    expect(parent.kind).toBe(3); // the API server's client call to the webhook
    expect(span.kind).toBe(2);
    expect(span.attributes).toMatchObject({ 'admission.request.kind.kind': 'ConfigMap', 'admission.request.operation': 'CREATE', 'admission.response.allowed': false });
    // The whole tree is in the API server's trace: bouncer's review and policy spans too.
    const mine = receiver.spans.filter((s) => s.traceId === span.traceId && s.service === 'bouncer-e2e');
    expect(mine.map((s) => s.name)).toEqual(expect.arrayContaining(['POST /validate', 'review', 'policy deny-label']));
    // The API server's own request span is the root of that trace.
    expect(receiver.spans.some((s) => s.service === 'apiserver' && s.traceId === span.traceId && s.parentSpanId === '')).toBe(true);
  }, 120_000);
});
