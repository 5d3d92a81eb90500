// Writes manifests/base/crds/: the CustomResourceDefinitions of the report kinds the audit
// writes (src/audit/report-build.ts), for clusters that do not have them yet.
//
//   openreports.io/v1alpha1  Report, ClusterReport        (openreports/reports-api,
//                            apis/openreports.io/v1alpha1/report_types.go)
//   wgpolicyk8s.io/v1alpha2  PolicyReport, ClusterPolicyReport  (kubernetes-sigs/wg-policy-prototypes,
//                            policy-report/pkg/api/wgpolicyk8s.io/v1alpha2/policyreport_types.go)
//
// A structural schema written from those Go types (the same fields, types, enums and required
// lists, kubebuilder's printer columns and short names); only the descriptions are bouncer's.
// Where the upstream type is open, the schema is too. wgpolicyk8s.io is served at v1alpha2 only,
// as Kyverno ships it: a cluster with Kyverno already has these CRDs and must keep Kyverno's.
// test/unit/report-crds.test.ts keeps the files in step: `npx tsx hack/gen-report-crds.ts`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const CRD_DIR = 'manifests/base/crds';

type Schema = Record<string, unknown>;

const str = (description: string): Schema => ({ description, type: 'string' });
const int = (description: string, format?: 'int32' | 'int64'): Schema => ({ description, type: 'integer', ...(format ? { format } : {}) });
const RESULTS = ['pass', 'fail', 'warn', 'error', 'skip'];

/** corev1.ObjectReference (a map of atomic type, as upstream). */
const objectReference = (description: string): Schema => ({
  description,
  type: 'object',
  properties: {
    apiVersion: str('API version of the referent.'),
    fieldPath: str('A piece of the referent, e.g. spec.containers{name}, if the reference is to part of an object.'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    namespace: str('Namespace of the referent.'),
    resourceVersion: str('The resourceVersion of the referent the result is about.'),
    uid: str('UID of the referent.'),
  },
  'x-kubernetes-map-type': 'atomic',
});

/** metav1.LabelSelector. */
const labelSelector = (description: string): Schema => ({
  description,
  type: 'object',
  properties: {
    matchExpressions: {
      description: 'Label selector requirements, ANDed.',
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: str('The label key the selector applies to.'),
          operator: str('In, NotIn, Exists or DoesNotExist.'),
          values: { description: 'Values for In and NotIn; empty for Exists and DoesNotExist.', type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' },
        },
      },
      'x-kubernetes-list-type': 'atomic',
    },
    matchLabels: { description: 'Labels that must all match.', type: 'object', additionalProperties: { type: 'string' } },
  },
  'x-kubernetes-map-type': 'atomic',
});

const summary: Schema = {
  description: 'Counts of results by outcome.',
  type: 'object',
  properties: {
    pass: int('Policy checks whose requirements were met.'),
    fail: int('Policy checks whose requirements were not met.'),
    warn: int('Policy checks not met and not scored.'),
    error: int('Policy checks that could not be evaluated.'),
    skip: int('Policy checks not selected for evaluation.'),
  },
};

const result: Schema = {
  description: 'The result of one policy (rule) for the referenced resources, or for the report scope.',
  type: 'object',
  required: ['policy'],
  properties: {
    category: str('The category of the policy.'),
    message: str('A short, readable message for the result.'),
    policy: str('The name or identifier of the policy.'),
    properties: { description: 'More information about the result.', type: 'object', additionalProperties: { type: 'string' } },
    resourceSelector: labelSelector('The resources the result applies to, by label (instead of resources).'),
    resources: { description: 'The checked resources.', type: 'array', items: objectReference('A checked resource.') },
    result: { description: 'The outcome of the check.', type: 'string', enum: RESULTS },
    rule: str('The name or identifier of the rule within the policy.'),
    scored: { description: 'Whether the result is scored.', type: 'boolean' },
    severity: { description: 'How critical the result is.', type: 'string', enum: ['critical', 'high', 'low', 'medium', 'info'] },
    source: str('The engine that produced the result (overrides the report-level source).'),
    timestamp: {
      description: 'When the result was found (metav1.Timestamp).',
      type: 'object',
      required: ['nanos', 'seconds'],
      properties: {
        nanos: int('Non-negative fractions of a second, 0 to 999,999,999.', 'int32'),
        seconds: int('Seconds since the Unix epoch, UTC.', 'int64'),
      },
    },
  },
};

function reportSchema(openreports: boolean): Schema {
  const properties: Record<string, Schema> = {
    apiVersion: str('The versioned schema of this object.'),
    kind: str('The REST resource this object represents.'),
    metadata: { type: 'object' },
    results: { description: 'The results.', type: 'array', items: result },
    scope: objectReference('The object the report is about (e.g. a Deployment, Namespace or Node).'),
    scopeSelector: labelSelector('The objects the report is about, by label (instead of scope).'),
    summary,
  };
  if (openreports) {
    properties.configuration = {
      description: 'The contract between the report producer and its consumers.',
      type: 'object',
      required: ['limits'],
      properties: {
        limits: {
          type: 'object',
          properties: {
            maxResults: int('The most results the report holds.'),
            statusFilter: { description: 'The only outcomes the report lists.', type: 'array', items: { type: 'string', enum: RESULTS } },
          },
        },
      },
    };
    properties.source = str('The engine that produced the report, when one engine produced every result.');
  }
  return { description: 'Policy results for the objects of its scope.', type: 'object', properties: Object.fromEntries(Object.entries(properties).sort(([a], [b]) => (a < b ? -1 : 1))) };
}

const columns = [
  { jsonPath: '.scope.kind', name: 'Kind', priority: 1, type: 'string' },
  { jsonPath: '.scope.name', name: 'Name', priority: 1, type: 'string' },
  ...['Pass', 'Fail', 'Warn', 'Error', 'Skip'].map((name) => ({ jsonPath: `.summary.${name.toLowerCase()}`, name, type: 'integer' })),
  { jsonPath: '.metadata.creationTimestamp', name: 'Age', type: 'date' },
];

interface CrdSpec {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly shortName: string;
  readonly scope: 'Namespaced' | 'Cluster';
}

const SPECS: readonly CrdSpec[] = [
  { group: 'openreports.io', version: 'v1alpha1', kind: 'Report', plural: 'reports', shortName: 'reps', scope: 'Namespaced' },
  { group: 'openreports.io', version: 'v1alpha1', kind: 'ClusterReport', plural: 'clusterreports', shortName: 'creps', scope: 'Cluster' },
  { group: 'wgpolicyk8s.io', version: 'v1alpha2', kind: 'PolicyReport', plural: 'policyreports', shortName: 'polr', scope: 'Namespaced' },
  { group: 'wgpolicyk8s.io', version: 'v1alpha2', kind: 'ClusterPolicyReport', plural: 'clusterpolicyreports', shortName: 'cpolr', scope: 'Cluster' },
];

function crd(spec: CrdSpec): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${spec.plural}.${spec.group}`, labels: { 'app.kubernetes.io/name': 'bouncer' } },
    spec: {
      group: spec.group,
      names: { kind: spec.kind, listKind: `${spec.kind}List`, plural: spec.plural, shortNames: [spec.shortName], singular: spec.kind.toLowerCase() },
      scope: spec.scope,
      versions: [
        {
          name: spec.version,
          served: true,
          storage: true,
          additionalPrinterColumns: columns,
          schema: { openAPIV3Schema: reportSchema(spec.group === 'openreports.io') },
        },
      ],
    },
  };
}

/** File name (in CRD_DIR) -> its YAML. */
export function reportCrds(): Map<string, string> {
  const header = (spec: CrdSpec) =>
    `# ${spec.kind} (${spec.group}/${spec.version}): written from the upstream Go types by hack/gen-report-crds.ts; do not edit.\n`;
  return new Map(SPECS.map((spec) => [`${spec.group}_${spec.plural}.yaml`, header(spec) + stringify(crd(spec), { lineWidth: 0 })]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(CRD_DIR, { recursive: true });
  for (const [file, yaml] of reportCrds()) writeFileSync(join(CRD_DIR, file), yaml);
}
