// Gatekeeper objects written for the importer's tests (not from the gatekeeper-library):
// a template whose constraints require labels, and constraints of it, as a user writes
// them and as an API server answers them (server-set fields, status, last-applied).

export const REGO = `package bouncerrequiredlabels

violation[{"msg": msg, "details": {"missing": missing}}] {
  provided := {label | input.review.object.metadata.labels[label]}
  required := {label | label := input.parameters.labels[_]}
  missing := required - provided
  count(missing) > 0
  msg := sprintf("you must provide labels: %v", [missing])
}
`;

export function template(kind = 'BouncerRequiredLabels'): Record<string, unknown> {
  return {
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: { name: kind.toLowerCase(), annotations: { 'metadata.gatekeeper.sh/title': 'Required labels' } },
    spec: {
      crd: { spec: { names: { kind }, validation: { openAPIV3Schema: { type: 'object', properties: { labels: { type: 'array', items: { type: 'string' } } } } } } },
      targets: [{ target: 'admission.k8s.gatekeeper.sh', rego: REGO }],
    },
  };
}

export function constraint(name: string, labels: string[], kind = 'BouncerRequiredLabels'): Record<string, unknown> {
  return {
    apiVersion: 'constraints.gatekeeper.sh/v1beta1',
    kind,
    metadata: { name, labels: { team: 'platform' } },
    spec: {
      match: { kinds: [{ apiGroups: [''], kinds: ['Namespace'] }] },
      parameters: { labels },
    },
  };
}

/** `object` as an API server returns it: server-set metadata, status, kubectl's last-applied annotation. */
export function asServed(object: Record<string, unknown>): Record<string, unknown> {
  const meta = object.metadata as Record<string, unknown>;
  return {
    ...object,
    metadata: {
      ...meta,
      annotations: { ...(meta.annotations as object), 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(object) },
      creationTimestamp: '2026-01-01T00:00:00Z',
      generation: 3,
      resourceVersion: '12345',
      uid: '0b1c7c4e-5f0a-4f54-9f0e-1c6b5d0f9a11',
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: String(object.apiVersion), fieldsType: 'FieldsV1', fieldsV1: {} }],
      finalizers: ['example.com/cleanup'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '6a9f0c8e-1111-2222-3333-444455556666' }],
      selfLink: `/apis/x/${String(meta.name)}`,
    },
    status: { created: true, byPod: [{ id: 'gatekeeper-audit', observedGeneration: 3 }] },
  };
}
