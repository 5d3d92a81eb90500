// The Gatekeeper object model bouncer accepts: ConstraintTemplates (templates.gatekeeper.sh
// v1/v1beta1) and Constraints (constraints.gatekeeper.sh v1beta1/v1alpha1), checked and
// reduced to what bouncer builds and enforces. Shared by the build (authoring), the match
// before evaluation (review), `bouncer verify` and `bouncer import` (cli).
import type { Operation } from '../admission/types.js';

export type RegoVersion = 'v0' | 'v1';

/** A YAML document's place in its file: 1-based document index and the line its content starts on. */
export interface DocumentPosition {
  readonly document: number;
  readonly line: number;
}

export interface ConstraintTemplate {
  /** metadata.name; equals the lowercase of `kind`. */
  readonly name: string;
  /** spec.crd.spec.names.kind: the kind of this template's Constraints. */
  readonly kind: string;
  /** The file the template was read from (for messages). */
  readonly file: string;
  /** Where in `file` the object's YAML document is, when it was read from YAML (for messages). */
  readonly position?: DocumentPosition;
  /** The Rego entry module (legacy targets[0].rego, or the `Rego` engine of targets[0].code[]). */
  readonly rego: string;
  readonly libs: readonly string[];
  /** From code[].source.version ("v1"), else v0, as Gatekeeper reads it. */
  readonly regoVersion: RegoVersion;
  /** spec.crd.spec.validation.openAPIV3Schema (the schema of a constraint's spec.parameters), when given. */
  readonly parametersSchema?: Readonly<Record<string, unknown>>;
  /**
   * spec.crd.spec.validation.legacySchema, defaulted as Gatekeeper defaults it (true for
   * v1beta1/v1alpha1, false for v1): parameters outside the schema are kept, not refused.
   */
  readonly legacySchema?: boolean;
  /** spec.targets[0].operations, when given. */
  readonly operations?: readonly Operation[];
  /**
   * The kinds it reads from data.inventory, from its `metadata.gatekeeper.sh/requires-sync-data`
   * annotation (sync-requirements.ts): every requirement must hold, each by any of its
   * alternatives. Absent when the template has no annotation.
   */
  readonly syncRequirements?: readonly { readonly alternatives: readonly Gvk[] }[];
  /** The object as read, for the importer and the manifest. */
  readonly source: Readonly<Record<string, unknown>>;
}

/** A group, version and kind ('' is the core group): inventory's GroupVersionKind, which this layer may not import. */
export interface Gvk {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export type EnforcementAction = 'deny' | 'warn' | 'dryrun';

export interface ScopedEnforcementAction {
  readonly action: EnforcementAction;
  /** Enforcement point names, e.g. "validation.gatekeeper.sh", "audit.gatekeeper.sh", "gator.gatekeeper.sh", "*". */
  readonly enforcementPoints: readonly string[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

/** metav1.LabelSelector. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface KindSelector {
  readonly apiGroups: readonly string[];
  readonly kinds: readonly string[];
}

/** A constraint's spec.match, as Gatekeeper defines it (pkg/mutation/match). */
export interface ConstraintMatch {
  readonly kinds?: readonly KindSelector[];
  readonly scope?: 'Cluster' | 'Namespaced' | '*';
  readonly namespaces?: readonly string[];
  readonly excludedNamespaces?: readonly string[];
  readonly labelSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly name?: string;
  readonly source?: 'All' | 'Original' | 'Generated';
}

export interface Constraint {
  /** The template's kind (the Constraint's own kind). */
  readonly kind: string;
  readonly name: string;
  /** `<kind>/<name>`: the policy id of this constraint in bundles, decisions and metrics. */
  readonly id: string;
  readonly file: string;
  /** Where in `file` the object's YAML document is, when it was read from YAML (for messages). */
  readonly position?: DocumentPosition;
  /** spec.enforcementAction; 'scoped' means: read scopedEnforcementActions. Default 'deny'. */
  readonly enforcementAction: EnforcementAction | 'scoped';
  readonly scopedEnforcementActions: readonly ScopedEnforcementAction[];
  readonly match: ConstraintMatch;
  /** spec.parameters, {} when absent. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly source: Readonly<Record<string, unknown>>;
}

/** Enforcement points (Gatekeeper's names, and bouncer's webhook's own). */
export const ENFORCEMENT_POINTS = {
  validation: 'validation.gatekeeper.sh',
  audit: 'audit.gatekeeper.sh',
  gator: 'gator.gatekeeper.sh',
  bouncerWebhook: 'validate.bouncer.dev',
} as const;

/** What the match of a constraint knows about a Namespace (from the watch-backed cache, or from files in the CLI). */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Namespace by name; undefined when it is not known (a match that needs it is then an error, never a guess). */
export type NamespaceLookup = (name: string) => NamespaceInfo | undefined;

/** The parts of a request (or of an object under audit or in a suite) that spec.match reads. */
export interface MatchSubject {
  /** The object's kind (request.kind), group '' for the core group. */
  readonly kind: { readonly group: string; readonly kind: string };
  readonly operation?: Operation;
  /** '' or undefined for a cluster-scoped object. */
  readonly namespace?: string;
  readonly name?: string;
  /** metadata of the new object (absent on DELETE), and of the old object (UPDATE, DELETE). */
  readonly objectMetadata?: Readonly<Record<string, unknown>>;
  readonly oldObjectMetadata?: Readonly<Record<string, unknown>>;
}

export type MatchResult = { readonly matched: boolean } | { readonly error: string };
