// The cost of Gatekeeper constraints in bouncer's engine, in-process (no HTTP): the same
// check ("these labels are required") written as a native policy and as a ConstraintTemplate
// with one Constraint, then one template with 1, 10 and 100 matched constraints (different
// parameters each), and 10 templates (copies under their own names) × 10 constraints. Every
// variant is built by `bouncer build` and reviewed through the same reviewer the webhook uses
// (in-process backend: one thread, no worker hop), on a 4 KB Pod. Also the side-by-side
// benchmark's allowedRegex template with 1 and 100 constraints (a pattern each).
// It imports the built dist/ (as bouncer serve runs it): tsx would add a name-keeping helper to
// every closure of the TypeScript sources, which costs more than some of the code measured.
//   npm run -s build && npx tsx bench/gatekeeper.ts [--seconds 3] [--gator PATH]
// With --gator, each Gatekeeper variant is also timed by `gator bench --engine=rego` (the same
// template, constraints and Pod; Gatekeeper's own engine without HTTP, concurrency 1).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTools, requireTool } from '../hack/lib/tools.js';

/** A module of the built dist/ (the path is computed, so TypeScript takes the types from src/). */
const fromDist = (path: string): Promise<unknown> => import(new URL(`../dist/${path}.js`, import.meta.url).href);
const { checkReview } = (await fromDist('admission/decode')) as typeof import('../src/admission/decode.js');
const { buildBundle } = (await fromDist('authoring/build')) as typeof import('../src/authoring/build.js');
const { loadBundle } = (await fromDist('bundles/bundle')) as typeof import('../src/bundles/bundle.js');
const { createPolicyRegistry } = (await fromDist('bundles/registry')) as typeof import('../src/bundles/registry.js');
const { createReviewer } = (await fromDist('review/reviewer')) as typeof import('../src/review/reviewer.js');
import { podRequest } from '../test/support/bundle-files.js';
import { constraintSet, writePoliciesDir } from './gatekeeper-constraints.js';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, gator: { type: 'string' } } });
const seconds = Number(values.seconds ?? 3);
const opa = requireTool(ensureTools('opa'), 'OPA');
const work = mkdtempSync(join(tmpdir(), 'bouncer-bench-gk-'));

const NATIVE = `# METADATA
# title: Required labels
# custom:
#   scope:
#     kinds: [Pod]
package policies.required_labels

deny contains sprintf("you must provide labels: %v", [missing]) if {
	provided := {l | some l, _ in input.request.object.metadata.labels}
	required := {l | some l in data.policies.required_labels.labels}
	missing := required - provided
	count(missing) > 0
}
`;

/** The template; with a suffix, a copy under its own name, kind and package. */
const template = (suffix = '') => `apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: benchrequiredlabels${suffix}
spec:
  crd:
    spec:
      names:
        kind: BenchRequiredLabels${suffix}
      validation:
        openAPIV3Schema:
          type: object
          properties:
            labels:
              type: array
              items:
                type: string
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package benchrequiredlabels${suffix}

        violation[{"msg": msg}] {
          provided := {l | input.review.object.metadata.labels[l]}
          required := {l | l := input.parameters.labels[_]}
          missing := required - provided
          count(missing) > 0
          msg := sprintf("you must provide labels: %v", [missing])
        }
`;

function constraint(i: number, suffix = ''): string {
  return `apiVersion: constraints.gatekeeper.sh/v1beta1
kind: BenchRequiredLabels${suffix}
metadata:
  name: required-${suffix ? `${suffix}-` : ''}${i}
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Pod"]
  parameters:
    labels: ["owner", "label-${i}"]
`;
}

async function bundleOf(name: string, write: (dir: string) => void) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  write(dir);
  const output = join(work, `${name}.tar.gz`);
  await buildBundle({ policiesDir: dir, output, opa, revision: name });
  return loadBundle(name, readFileSync(output));
}

/** `gator bench` reads the template and constraint files listed in `gator`. */
const variants: { label: string; bundle: Awaited<ReturnType<typeof bundleOf>>; gator?: string[] }[] = [];
variants.push({
  label: 'native policy (1 check)',
  bundle: await bundleOf('native', (dir) => {
    mkdirSync(join(dir, 'required-labels'));
    writeFileSync(join(dir, 'required-labels', 'policy.rego'), NATIVE);
    writeFileSync(join(dir, 'required-labels', 'data.json'), JSON.stringify({ labels: ['owner', 'label-0'] }));
  }),
});
for (const n of [1, 10, 100]) {
  variants.push({
    label: `template + ${n} constraint${n > 1 ? 's' : ''}`,
    gator: [join(work, `gk-${n}`, 'gatekeeper', 'benchrequiredlabels', 'template.yaml'), join(work, `gk-${n}`, 'gatekeeper', 'benchrequiredlabels', 'constraints')],
    bundle: await bundleOf(`gk-${n}`, (dir) => {
      mkdirSync(join(dir, 'gatekeeper', 'benchrequiredlabels', 'constraints'), { recursive: true });
      writeFileSync(join(dir, 'gatekeeper', 'benchrequiredlabels', 'template.yaml'), template());
      writeFileSync(join(dir, 'gatekeeper', 'benchrequiredlabels', 'constraints', 'all.yaml'), Array.from({ length: n }, (_, i) => constraint(i)).join('---\n'));
    }),
  });
}
// The side-by-side webhook benchmark's template (bench/gatekeeper-constraints.ts): required
// labels whose values must match the constraint's allowedRegex, a pattern per constraint.
for (const n of [1, 100]) {
  const set = constraintSet({ templates: 1, constraintsPerTemplate: n });
  variants.push({ label: `allowedRegex template + ${n} constraint${n > 1 ? 's' : ''}`, bundle: await bundleOf(`gk-regex-${n}`, (dir) => writePoliciesDir(set, dir)) });
}
const copies = Array.from({ length: 10 }, (_, t) => `t${t}`);
variants.push({
  label: '10 templates × 10 constraints',
  gator: copies.flatMap((c) => [join(work, 'gk-10x10', 'gatekeeper', `benchrequiredlabels${c}`, 'template.yaml'), join(work, 'gk-10x10', 'gatekeeper', `benchrequiredlabels${c}`, 'constraints')]),
  bundle: await bundleOf('gk-10x10', (dir) => {
    for (const c of copies) {
      mkdirSync(join(dir, 'gatekeeper', `benchrequiredlabels${c}`, 'constraints'), { recursive: true });
      writeFileSync(join(dir, 'gatekeeper', `benchrequiredlabels${c}`, 'template.yaml'), template(c));
      writeFileSync(join(dir, 'gatekeeper', `benchrequiredlabels${c}`, 'constraints', 'all.yaml'), Array.from({ length: 10 }, (_, i) => constraint(i, c)).join('---\n'));
    }
  }),
});

const containers = Array.from({ length: 8 }, (_, i) => ({ name: `c${i}`, image: `registry.example.com/team/app-${i}:1.2.${i}`, env: Array.from({ length: 6 }, (_, j) => ({ name: `VAR_${j}`, value: 'x'.repeat(40) })) }));
const pod = { metadata: { name: 'p', namespace: 'team', labels: { app: 'bench' } }, spec: { containers } };
const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: podRequest(pod, { userInfo: { username: 'bench' } }) };
const raw = new TextEncoder().encode(JSON.stringify(review));
const checked = checkReview(review);

/** Mean µs per review of `gator bench` on the variant's templates and constraints and the same Pod. */
function gatorMean(files: readonly string[] | undefined): string {
  if (!values.gator || !files) return '';
  const podFile = join(work, 'pod.yaml');
  writeFileSync(podFile, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...pod }));
  const iterations = String(Math.max(200, seconds * 500));
  const out = execFileSync(values.gator, ['bench', ...files.map((f) => `--filename=${f}`), `--filename=${podFile}`, '--engine=rego', `--iterations=${iterations}`, '--output=json'], { encoding: 'utf8' });
  const [result] = JSON.parse(out) as { latencies: { mean: string } }[];
  const mean = result?.latencies.mean ?? '';
  const value = Number.parseFloat(mean);
  const micros = mean.endsWith('ms') ? value * 1000 : mean.endsWith('µs') ? value : mean.endsWith('s') ? value * 1e6 : value / 1000;
  return ` ${micros.toFixed(0)} |`;
}

process.stdout.write(
  `review: ${raw.byteLength} bytes; ${seconds} s per variant, in-process, one thread\n\n| variant | reviews/s | µs per review | violations |${values.gator ? ' gator bench µs |' : ''}\n|---|---:|---:|---:|${values.gator ? '---:|' : ''}\n`,
);
for (const v of variants) {
  const reviewer = createReviewer({ policies: createPolicyRegistry([v.bundle]).current });
  const first = await reviewer.review('validate', checked, raw);
  const violations = first.outcomes.reduce((n, o) => n + o.violations.length, 0);
  if (first.allowed) throw new Error(`${v.label}: the Pod without the labels was admitted`);
  for (let i = 0; i < 200; i++) await reviewer.review('validate', checked, raw);
  let count = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    await reviewer.review('validate', checked, raw);
    count++;
  }
  const elapsed = (performance.now() - started) / 1000;
  process.stdout.write(`| ${v.label} | ${(count / elapsed).toFixed(0)} | ${((elapsed * 1e6) / count).toFixed(0)} | ${violations} |${values.gator ? gatorMean(v.gator) || ' – |' : ''}\n`);
}
rmSync(work, { recursive: true, force: true });
