// The policy sets under benchmark, and the same Rego made ready for each system:
// - a bouncer bundle, compiled by `bouncer build` (src/authoring/build.ts buildBundle);
// - an OPA server tree, staged exactly as the build stages it (src/authoring/stage.ts
//   stagePolicies) plus a generated `system.main` that answers the AdmissionReview, the
//   classic OPA / kube-mgmt admission setup.
//
// Generated sets hold N copies of one starter policy under distinct ids (packages
// renamed), or copies cycling through several starter policies, with policies/lib.
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '../src/authoring/build.js';
import { stagePolicies } from '../src/authoring/stage.js';
import type { PolicyMetadata } from '../src/bundles/policy-metadata.js';

export const STARTER_DIR = fileURLToPath(new URL('../policies', import.meta.url));

/** The validating starter policies (the ones /validate evaluates). */
export const VALIDATING_STARTERS = [
  'disallow-privileged',
  'allowed-registries',
  'disallow-latest-tag',
  'require-resource-limits',
  'disallow-host-namespaces',
  'disallow-host-path',
  'require-owner-label',
] as const;

export interface PolicySetSpec {
  /** Names the set in results: "starter", "latest-tag-x300", ... */
  readonly name: string;
  /** The policy source itself (the starter library unless --policy-source), or copies of its `templates` (cycled) up to `count`. */
  readonly source: { readonly kind: 'starter' } | { readonly kind: 'copies'; readonly templates: readonly string[]; readonly count: number };
}

export interface BuiltPolicySet {
  readonly spec: PolicySetSpec;
  readonly policiesDir: string;
  readonly bundleFile: string;
  readonly revision: string;
  readonly policies: readonly PolicyMetadata[];
  /** Policies with a validate entrypoint (what /validate can evaluate). */
  readonly validating: number;
}

const snake = (id: string) => id.replaceAll('-', '_');

/** Writes N renamed copies of policies of `sourceDir` (the starter library by default), and its lib/, into `dir`. */
export function writeCopies(dir: string, templates: readonly string[], count: number, sourceDir = STARTER_DIR): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(sourceDir, 'lib'), join(dir, 'lib'), { recursive: true, filter: (src) => !src.endsWith('_test.rego') });
  const width = String(count).length;
  for (let i = 0; i < count; i++) {
    const template = templates[i % templates.length] as string;
    const id = `p${String(i + 1).padStart(width, '0')}-${template}`;
    const target = join(dir, id);
    mkdirSync(target);
    const from = `policies.${snake(template)}`;
    const to = `policies.${snake(id)}`;
    const source = join(sourceDir, template);
    for (const file of readdirSync(source)) {
      if (file === 'policy.rego') {
        // Package and data references (data.policies.<snake>.…) follow the new id.
        writeFileSync(join(target, file), readFileSync(join(source, file), 'utf8').replaceAll(from, to));
      } else if (file === 'data.json' || file === 'data.yaml') {
        copyFileSync(join(source, file), join(target, file));
      }
    }
  }
}

function digestOfDir(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!name.endsWith('_test.rego') && !path.includes('/fixtures/')) hash.update(path.slice(dir.length)).update(readFileSync(path));
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds (or reuses from `cacheDir`, keyed by the sources' digest) the set's bundle.
 * Generated sources are written under `cacheDir` too.
 */
export async function buildPolicySet(
  spec: PolicySetSpec,
  opa: string,
  cacheDir: string,
  log: (line: string) => void = () => undefined,
  sourceDir = STARTER_DIR,
): Promise<BuiltPolicySet> {
  mkdirSync(cacheDir, { recursive: true });
  let policiesDir = sourceDir;
  if (spec.source.kind === 'copies') {
    policiesDir = join(cacheDir, `src-${spec.name}`);
    writeCopies(policiesDir, spec.source.templates, spec.source.count, sourceDir);
  }
  const digest = digestOfDir(policiesDir);
  const bundleFile = join(cacheDir, `${spec.name}-${digest}.tar.gz`);
  const metaFile = `${bundleFile}.json`;
  if (existsSync(bundleFile) && existsSync(metaFile)) {
    const cached = JSON.parse(readFileSync(metaFile, 'utf8')) as { revision: string; policies: PolicyMetadata[] };
    return { spec, policiesDir, bundleFile, revision: cached.revision, policies: cached.policies, validating: cached.policies.filter((p) => p.entrypoints.validate).length };
  }
  const started = Date.now();
  const tmp = `${bundleFile}.${process.pid}.tmp`;
  const result = await buildBundle({ policiesDir, output: tmp, opa, revision: `bench-${digest}` });
  renameSync(tmp, bundleFile);
  writeFileSync(metaFile, JSON.stringify({ revision: result.revision, policies: result.policies }));
  log(`built policy set ${spec.name} (${result.policies.length} policies) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { spec, policiesDir, bundleFile, revision: result.revision, policies: result.policies, validating: result.policies.filter((p) => p.entrypoints.validate).length };
}

// --- the OPA side ------------------------------------------------------------------

const regoString = (s: string) => JSON.stringify(s);

/** The body lines of a rule that holds when the request is in the policy's declared scope. */
function scopeConditions(meta: PolicyMetadata, kindRule: string): string[] {
  const { kinds, operations, subresources } = meta.scope;
  const lines: string[] = [];
  if (!kinds.some((k) => k.group === '*' && k.kind === '*')) lines.push(`\t${kindRule}`);
  if (!operations.includes('*' as never)) lines.push(`\tinput.request.operation in {${operations.map(regoString).join(', ')}}`);
  if (!subresources.includes('*')) lines.push(`\t_subresource in {${subresources.map(regoString).join(', ')}}`);
  const { include, exclude } = meta.scope.namespaces;
  if (include) lines.push(`\t_namespace in {${include.map(regoString).join(', ')}}`);
  if (exclude) lines.push(`\tnot _namespace in {${exclude.map(regoString).join(', ')}}`);
  return lines;
}

/** Rules for `kindRule`: exact group/kind pairs as one set lookup, wildcards one body each. */
function kindRules(meta: PolicyMetadata, kindRule: string): string[] {
  const exact = meta.scope.kinds.filter((k) => k.group !== '*' && k.kind !== '*');
  const wild = meta.scope.kinds.filter((k) => k.group === '*' || k.kind === '*');
  const out: string[] = [];
  if (exact.length > 0) {
    const set = exact.map((k) => `{"group": ${regoString(k.group)}, "kind": ${regoString(k.kind)}}`).join(', ');
    out.push(`${kindRule} if _gk in {${set}}`, '');
  }
  for (const k of wild) {
    const conds = [...(k.group === '*' ? [] : [`_gk.group == ${regoString(k.group)}`]), ...(k.kind === '*' ? [] : [`_gk.kind == ${regoString(k.kind)}`])];
    out.push(`${kindRule} if {`, ...(conds.length > 0 ? conds.map((c) => `\t${c}`) : ['\ttrue']), '}', '');
  }
  return out;
}

/**
 * `package system` with `main`: the AdmissionReview answer built from the policies' deny
 * and warn messages, with each policy's enforcement (deny / warn / dryrun) and scope
 * applied as bouncer applies them. OPA serves it as the default decision at POST /.
 */
export function systemMain(policies: readonly PolicyMetadata[]): string {
  const out: string[] = [
    '# Generated by bench/policy-sets.ts: the classic OPA admission-controller entry point.',
    'package system',
    '',
    'main := {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}',
    '',
    'response := {"uid": input.request.uid, "allowed": true, "warnings": _warnings, "auditAnnotations": _audit} if {',
    '\tcount(_denials) == 0',
    '} else := {',
    '\t"uid": input.request.uid,',
    '\t"allowed": false,',
    '\t"status": {"code": 403, "message": concat("; ", ["bouncer denied the request:", concat("; ", sort(_denials))])},',
    '\t"warnings": _warnings,',
    '\t"auditAnnotations": _audit,',
    '}',
    '',
    '_gk := {"group": object.get(input.request.kind, "group", ""), "kind": input.request.kind.kind}',
    '',
    '_subresource := object.get(input.request, "subResource", "")',
    '',
    '_namespace := object.get(input.request, "namespace", "")',
    '',
    '_msg(m) := m if is_string(m)',
    '',
    '_msg(m) := m.msg if is_object(m)',
    '',
    '_audit := {"decision": "allowed", "dryrun-violations": concat(",", sort(_dryrun))} if count(_denials) == 0',
    '',
    '_audit := {"decision": "denied", "dryrun-violations": concat(",", sort(_dryrun))} if count(_denials) > 0',
    '',
  ];
  for (const meta of policies) {
    if (!meta.entrypoints.validate) continue;
    const pkg = `data.${meta.package}`;
    const id = regoString(meta.id);
    const scope = `_in_scope_${snake(meta.id)}`;
    const kindRule = `_kind_${snake(meta.id)}`;
    out.push(...kindRules(meta, kindRule), `${scope} if {`, ...scopeConditions(meta, kindRule), '}', '');
    const target = meta.enforcement === 'deny' ? '_denials' : meta.enforcement === 'warn' ? '_warnings_set' : '_dryrun';
    const value = meta.enforcement === 'dryrun' ? id : `sprintf("[%s] %s", [${id}, _msg(m)])`;
    out.push(`${target} contains ${value} if {`, `\t${scope}`, `\tsome m in ${pkg}.deny`, '}', '');
    out.push(`_warnings_set contains sprintf("[%s] %s", [${id}, _msg(m)]) if {`, `\t${scope}`, `\tsome m in ${pkg}.warn`, '}', '');
  }
  out.push(
    '# Empty unless some policy contributes.',
    '_denials contains x if some x in set()',
    '',
    '_dryrun contains x if some x in set()',
    '',
    '_warnings_set contains x if some x in set()',
    '',
    '_warnings := sort(_warnings_set)',
    '',
  );
  return out.join('\n');
}

/** A directory `opa run --server` loads: the staged policies plus system/main.rego. Remove it when done. */
export function stageForOpa(set: BuiltPolicySet): string {
  const stage = stagePolicies(set.policiesDir, { tests: false });
  mkdirSync(join(stage.dir, 'system'), { recursive: true });
  writeFileSync(join(stage.dir, 'system', 'main.rego'), systemMain(set.policies));
  return stage.dir;
}
