// The ConstraintTemplates and Constraints of the Gatekeeper side-by-side benchmarks, written
// once and given to both engines: as a policies directory for `bouncer build`
// (gatekeeper/<template>/template.yaml + constraints/all.yaml) and as the same YAML documents
// for `kubectl apply` against the API server Gatekeeper watches.
//
// The template is the common "required labels" check in its usual form: each listed key must be
// present, and when the constraint gives an allowedRegex, its value must match. Constraint j of
// a template requires `app` with its own regex (^[a-z][a-z0-9-]{0,40+j}$: the parameters differ,
// the corpus's app labels satisfy all of them), and every tenth constraint (j = 0, 10, …) also
// requires `owner`. So every constraint matches every review (no match block) and is evaluated,
// most reviews are allowed, and a review without an owner label is denied by one constraint in
// ten of each template — denials with a bounded number of messages. With several templates each
// is a copy under its own name, kind and package (the same Rego: it isolates the per-template
// cost from the per-constraint cost).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ConstraintSetShape {
  readonly templates: number;
  readonly constraintsPerTemplate: number;
  /** false: the constraints give no allowedRegex (only the keys are checked); to tell regex.match's share of the cost. */
  readonly allowedRegex?: boolean;
}

export interface ConstraintSet extends ConstraintSetShape {
  /** "1 template × 100 constraints" */
  readonly label: string;
  /** Template YAML documents, one per template. */
  readonly templateDocs: readonly string[];
  /** Constraint YAML documents, all templates. */
  readonly constraintDocs: readonly string[];
  /** Every constraint's name (each one denies `probeReview`). */
  readonly constraintNames: readonly string[];
}

const templateName = (t: number) => `benchlabels${t}`;
const kindName = (t: number) => `BenchLabels${t}`;

function template(t: number): string {
  return `apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: ${templateName(t)}
spec:
  crd:
    spec:
      names:
        kind: ${kindName(t)}
      validation:
        openAPIV3Schema:
          type: object
          properties:
            labels:
              type: array
              items:
                type: object
                properties:
                  key: { type: string }
                  allowedRegex: { type: string }
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package ${templateName(t)}

        violation[{"msg": msg}] {
          provided := {l | input.review.object.metadata.labels[l]}
          required := {l | l := input.parameters.labels[_].key}
          missing := required - provided
          count(missing) > 0
          msg := sprintf("you must provide labels: %v", [missing])
        }

        violation[{"msg": msg}] {
          value := input.review.object.metadata.labels[key]
          expected := input.parameters.labels[_]
          expected.key == key
          expected.allowedRegex != ""
          not regex.match(expected.allowedRegex, value)
          msg := sprintf("label <%v: %v> does not match %v", [key, value, expected.allowedRegex])
        }
`;
}

function constraint(t: number, j: number, allowedRegex: boolean): string {
  return `apiVersion: constraints.gatekeeper.sh/v1beta1
kind: ${kindName(t)}
metadata:
  name: labels-${t}-${j}
spec:
  parameters:
    labels:
      - key: app
${allowedRegex ? `        allowedRegex: "^([a-z]+-[a-z]+|legacy-${j})$"\n` : ''}${j % 10 === 0 ? '      - key: owner\n' : ''}`;
}

export function constraintSet(shape: ConstraintSetShape): ConstraintSet {
  const templates = Array.from({ length: shape.templates }, (_, t) => t);
  const constraints = templates.flatMap((t) => Array.from({ length: shape.constraintsPerTemplate }, (_, j) => ({ t, j })));
  const n = shape.constraintsPerTemplate;
  return {
    ...shape,
    label: `${shape.templates} template${shape.templates > 1 ? 's' : ''} × ${n} constraint${n > 1 ? 's' : ''}${shape.allowedRegex === false ? ', no allowedRegex' : ''}`,
    templateDocs: templates.map(template),
    constraintDocs: constraints.map(({ t, j }) => constraint(t, j, shape.allowedRegex !== false)),
    constraintNames: constraints.map(({ t, j }) => `labels-${t}-${j}`),
  };
}

/** Writes the set as a `bouncer build` policies directory under `dir`. */
export function writePoliciesDir(set: ConstraintSet, dir: string): void {
  for (let t = 0; t < set.templates; t++) {
    const base = join(dir, 'gatekeeper', templateName(t));
    mkdirSync(join(base, 'constraints'), { recursive: true });
    writeFileSync(join(base, 'template.yaml'), set.templateDocs[t] as string);
    const own = set.constraintDocs.filter((doc) => doc.includes(`\nkind: ${kindName(t)}\n`));
    writeFileSync(join(base, 'constraints', 'all.yaml'), own.join('---\n'));
  }
}

/**
 * A Pod review every constraint of every set denies: it has neither an app nor an owner label. Waiting until an engine names all constraints in its answer to it
 * is waiting until that engine has ingested the whole set.
 */
export function probeReview(namespace: string): Buffer {
  const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace, labels: { tier: 'probe' } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } };
  return Buffer.from(
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: '00000000-0000-4000-a000-000000000001',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        name: 'probe',
        namespace,
        operation: 'CREATE',
        userInfo: { username: 'bench' },
        object,
        oldObject: null,
      },
    }),
  );
}
