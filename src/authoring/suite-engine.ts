// The engine behind `bouncer verify`: the suites' templates compiled once by the same build
// as `bouncer build` (one policy.wasm), and each case evaluated through the same generated
// entrypoints and the same WASM evaluator as the webhook. What differs from the webhook is
// only what gator does differently: the enforcement point is gator.gatekeeper.sh, every
// operation is evaluated (gator has no webhook rules), Namespaces come from the case's
// inventory (gator's namespace cache is filled from it) and namespaceObject is {} (gator
// passes no Namespace, and the Rego driver's unset map reaches Rego as an empty object), and
// data.inventory holds the case's inventory in Gatekeeper's layout.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdmissionRequest } from '../admission/types.js';
import { readTemplateResult } from '../bundles/bundle-checks.js';
import { loadBundle, type LoadedBundle } from '../bundles/bundle.js';
import { contextText, withGatekeeperContext } from '../bundles/gatekeeper-input.js';
import { createEvaluator } from '../engine/evaluator.js';
import { actionFor, decidingAction } from '../gatekeeper/enforcement.js';
import { matchConstraint, matchSubjectFromRequest, unableToMatchMessage } from '../gatekeeper/match.js';
import type { CaseInput, CaseViolation, CompiledTemplates, SuiteEngine } from '../gatekeeper/suite-engine.js';
import { ENFORCEMENT_POINTS, type Constraint, type EnforcementAction, type MatchSubject, type NamespaceInfo } from '../gatekeeper/types.js';
import { buildBundle } from './build.js';
import { inventoryData } from './inventory.js';

const encoder = new TextEncoder();

function namespacesOf(inventory: CaseInput['inventory']): Map<string, NamespaceInfo> {
  const out = new Map<string, NamespaceInfo>();
  for (const o of inventory) {
    if (o.apiVersion !== 'v1' || o.kind !== 'Namespace') continue;
    const meta = (o.metadata ?? {}) as { name?: unknown; labels?: unknown; annotations?: unknown };
    if (typeof meta.name !== 'string') continue;
    out.set(meta.name, {
      name: meta.name,
      labels: (typeof meta.labels === 'object' && meta.labels !== null ? meta.labels : {}) as Record<string, string>,
      ...(typeof meta.annotations === 'object' && meta.annotations !== null ? { annotations: meta.annotations as Record<string, string> } : {}),
    });
  }
  return out;
}

/**
 * The subject matched as gator matches it (gatekeeper pkg/target/matcher.go Match): the
 * request's Namespace is the one gator's cache (the inventory) has under the request's
 * namespace. Without it the object's own metadata.namespace stands in for namespaces,
 * excludedNamespaces and scope, and a namespaceSelector on a namespaced object is an error.
 */
function gatorSubject(subject: MatchSubject, namespaces: ReadonlyMap<string, NamespaceInfo>): { subject: MatchSubject; namespace: NamespaceInfo | undefined } {
  const namespace = subject.namespace ? namespaces.get(subject.namespace) : undefined;
  if (namespace !== undefined) return { subject, namespace };
  const { namespace: _unknown, ...rest } = subject;
  return { subject: rest, namespace };
}

/**
 * data.inventory as gator's store holds it: only what the case's inventory added, so with no
 * namespaced objects data.inventory.namespace is undefined, and with none at all so is
 * data.inventory (a template's count(data.inventory.namespace) is then undefined, not 0).
 */
function gatorInventory(objects: CaseInput['inventory']): { inventory?: Record<string, unknown> } {
  const inventory = Object.fromEntries(Object.entries(inventoryData(objects)).filter(([, v]) => Object.keys(v).length > 0));
  return Object.keys(inventory).length > 0 ? { inventory } : {};
}

/** The order gator reads results in (frameworks types.Responses.Results): by action, then msg, as Go compares strings. */
function gatorOrder(a: CaseViolation, b: CaseViolation): number {
  return Buffer.compare(Buffer.from(a.enforcementAction), Buffer.from(b.enforcementAction)) || Buffer.compare(Buffer.from(a.msg), Buffer.from(b.msg));
}

function compiled(bundle: LoadedBundle): CompiledTemplates {
  const key = bundle.manifest.gatekeeper?.key ?? '';
  const templates = new Map(bundle.templates.map((t) => [t.meta.kind, t]));
  return {
    async review(constraints, review) {
      const { subject, namespace } = gatorSubject(matchSubjectFromRequest(review.request as unknown as AdmissionRequest), namespacesOf(review.inventory));
      const out: CaseViolation[] = [];
      const byKind = new Map<string, { constraint: Constraint; action: EnforcementAction }[]>();
      for (const constraint of constraints) {
        const action = decidingAction(actionFor(constraint, ENFORCEMENT_POINTS.gator));
        if (action === undefined) continue;
        const result = matchConstraint(constraint.match, subject, (name) => (name === namespace?.name ? namespace : undefined));
        if ('error' in result) out.push({ constraint: constraint.name, msg: unableToMatchMessage(result.error), enforcementAction: action });
        else if (result.matched) byKind.set(constraint.kind, [...(byKind.get(constraint.kind) ?? []), { constraint, action }]);
      }
      const jobs = [...byKind].map(([kind, matched]) => {
        const template = templates.get(kind);
        if (!template) throw new Error(`no template of kind ${kind} was compiled`);
        return { template, matched };
      });
      if (jobs.length === 0) return out.sort(gatorOrder);
      const parameters: Record<string, Record<string, unknown>> = {};
      for (const job of jobs) for (const m of job.matched) (parameters[m.constraint.kind] ??= {})[m.constraint.name] = m.constraint.parameters;
      const data = encoder.encode(JSON.stringify({ bouncer: { constraints: parameters }, ...gatorInventory(review.inventory) }));
      const evaluator = createEvaluator(bundle.wasm, data, bundle.limits);
      const matched = Object.fromEntries(jobs.map((j) => [j.template.meta.kind, j.matched.map((m) => m.constraint.name)]));
      const input = withGatekeeperContext(encoder.encode(JSON.stringify({ request: review.request })), contextText({ gatekeeper: { [key]: matched }, namespaceObject: {} }));
      const results = evaluator.evaluate(input, jobs.map((j) => j.template.validate));
      jobs.forEach((job, i) => {
        const result = results[i];
        let violations: ReturnType<typeof readTemplateResult> | undefined;
        let failure: string | undefined;
        if (!result?.ok) failure = result?.failure.message ?? 'no result';
        else {
          try {
            violations = readTemplateResult(result.value);
          } catch (err) {
            failure = (err as Error).message;
          }
        }
        for (const m of job.matched) {
          // Gatekeeper's rule: a template that fails gives one violation per constraint, its message the error.
          if (failure !== undefined) out.push({ constraint: m.constraint.name, msg: failure, enforcementAction: m.action });
          else for (const v of violations?.[m.constraint.name] ?? []) out.push({ constraint: m.constraint.name, msg: v.msg, enforcementAction: m.action, ...(v.details ? { details: v.details } : {}) });
        }
      });
      return out.sort(gatorOrder);
    },
    close: () => undefined,
  };
}

/** An engine compiling with the OPA CLI at `opa`. */
export function createSuiteEngine(opa: string): SuiteEngine {
  return {
    async compile(templates) {
      const dir = mkdtempSync(join(tmpdir(), 'bouncer-verify-'));
      try {
        const output = join(dir, 'bundle.tar.gz');
        await buildBundle({ policiesDir: dir, output, opa, revision: 'verify', gatekeeper: { templates: [...templates], constraints: [] } });
        return compiled(await loadBundle('verify', readFileSync(output)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
