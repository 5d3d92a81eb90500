// The Gatekeeper part of a bundle manifest (`metadata.bouncer.gatekeeper`): each compiled
// ConstraintTemplate with its generated entrypoint, and each Constraint with what is needed
// to decide, before any evaluation, whether it applies to a request (match, enforcement
// action). Parameters are bundle data (data.bouncer.constraints), not metadata.
// Written by `bouncer build`, checked again when a bundle is loaded.
import { BouncerError } from '../errors/errors.js';
import { parseAuditMark, type AuditMark } from './audit-mark.js';
import { parseConstraintMatch } from '../gatekeeper/parse-match.js';
import type { Constraint, EnforcementAction, ScopedEnforcementAction } from '../gatekeeper/types.js';

/** A Constraint as a bundle carries it. */
export type BundledConstraint = Pick<Constraint, 'kind' | 'name' | 'id' | 'enforcementAction' | 'scopedEnforcementActions' | 'match'>;

export interface BundledTemplate {
  readonly name: string;
  readonly kind: string;
  /** The generated entrypoint evaluating every matched constraint of this template in one call. */
  readonly entrypoint: string;
  /** Operations the template's constraints are evaluated for (the webhook rules are rendered from them). */
  readonly operations: readonly string[];
  /** Present when the background audit must skip the template's constraints, and why (audit-mark.ts). */
  readonly audit?: AuditMark;
}

export interface GatekeeperManifest {
  /**
   * Names this bundle's Gatekeeper content in the policy input: matched constraints are
   * passed as input.__bouncer.gatekeeper[key][kind], so two bundles of one policy set never
   * read each other's matches. A digest of the sources, written by the build.
   */
  readonly key: string;
  readonly templates: readonly BundledTemplate[];
  /** Ordered by id. */
  readonly constraints: readonly BundledConstraint[];
}

const ACTIONS: readonly string[] = ['deny', 'warn', 'dryrun'];
const KIND = /^[A-Za-z][A-Za-z0-9]*$/;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function invalid(message: string): never {
  throw new BouncerError('BUNDLE_MANIFEST_INVALID', `metadata.bouncer.gatekeeper: ${message}`);
}

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scoped(where: string, v: unknown): ScopedEnforcementAction[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) invalid(`${where}: scopedEnforcementActions must be a list`);
  return v.map((entry: unknown) => {
    if (!isObject(entry) || typeof entry.action !== 'string' || !ACTIONS.includes(entry.action)) invalid(`${where}: each scoped action needs action deny, warn or dryrun`);
    const points = entry.enforcementPoints;
    if (!Array.isArray(points) || !points.every((p) => typeof p === 'string')) invalid(`${where}: enforcementPoints must be a list of names`);
    return { action: entry.action as EnforcementAction, enforcementPoints: points as string[] };
  });
}

function parseTemplate(v: unknown): BundledTemplate {
  if (!isObject(v) || typeof v.name !== 'string' || typeof v.kind !== 'string' || !KIND.test(v.kind)) invalid('each template needs a name and a kind');
  if (v.name !== v.kind.toLowerCase()) invalid(`template ${v.name}: name must be the lowercase kind ${v.kind}`);
  if (typeof v.entrypoint !== 'string') invalid(`template ${v.name}: no entrypoint`);
  const operations = v.operations;
  if (!Array.isArray(operations) || !operations.every((o) => typeof o === 'string' && ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'].includes(o))) {
    invalid(`template ${v.name}: operations must be a list of CREATE, UPDATE, DELETE, CONNECT`);
  }
  const audit = parseAuditMark(v.audit, `metadata.bouncer.gatekeeper: template ${v.name}`);
  return { name: v.name, kind: v.kind, entrypoint: v.entrypoint, operations: operations as string[], ...(audit ? { audit } : {}) };
}

function parseConstraintEntry(v: unknown, kinds: ReadonlySet<string>): BundledConstraint {
  if (!isObject(v) || typeof v.kind !== 'string' || typeof v.name !== 'string') invalid('each constraint needs a kind and a name');
  const where = `constraint ${v.kind}/${v.name}`;
  if (!kinds.has(v.kind)) invalid(`${where}: no template of kind ${v.kind} in the bundle`);
  if (!NAME.test(v.name)) invalid(`${where}: name must be a DNS subdomain`);
  if (v.id !== `${v.kind}/${v.name}`) invalid(`${where}: id must be ${v.kind}/${v.name}`);
  const action = v.enforcementAction ?? 'deny';
  if (typeof action !== 'string' || ![...ACTIONS, 'scoped'].includes(action)) invalid(`${where}: enforcementAction must be deny, warn, dryrun or scoped`);
  let match;
  try {
    match = parseConstraintMatch(v.match ?? {}, `${where} match`);
  } catch (err) {
    invalid((err as Error).message);
  }
  return {
    kind: v.kind,
    name: v.name,
    id: v.id,
    enforcementAction: action as BundledConstraint['enforcementAction'],
    scopedEnforcementActions: scoped(where, v.scopedEnforcementActions),
    match,
  };
}

/** Checks `metadata.bouncer.gatekeeper` against the wasm entrypoints; undefined when absent. */
export function parseGatekeeperManifest(raw: unknown, entrypoints: ReadonlySet<string>): GatekeeperManifest | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) invalid('must be an object');
  if (typeof raw.key !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(raw.key)) invalid('key must be a short identifier');
  if (!Array.isArray(raw.templates) || !Array.isArray(raw.constraints)) invalid('needs templates and constraints lists');
  const templates = raw.templates.map(parseTemplate);
  const kinds = new Set<string>();
  for (const t of templates) {
    if (kinds.has(t.kind)) invalid(`template kind ${t.kind} appears twice`);
    kinds.add(t.kind);
    if (!entrypoints.has(t.entrypoint)) invalid(`template ${t.name} names entrypoint ${t.entrypoint}, which the wasm section does not list`);
  }
  const constraints = raw.constraints.map((c) => parseConstraintEntry(c, kinds));
  const ids = new Set<string>();
  for (const c of constraints) {
    if (ids.has(c.id)) invalid(`constraint ${c.id} appears twice`);
    ids.add(c.id);
  }
  return { key: raw.key, templates, constraints: [...constraints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}
