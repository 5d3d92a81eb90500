// `bouncer sync check`: which ConstraintTemplate requirements (metadata.gatekeeper.sh/requires-sync-data)
// the sync configuration of a policy directory (SyncSets, the Config) does not satisfy — what
// `gator sync test --force-omit-gvk-manifest` reports (pkg/gator/sync/test/test.go): a requirement
// is met when any of its alternatives is listed by some SyncSet or the Config; with no sync
// configuration at all, every requirement is unmet. bouncer itself replicates every declared
// requirement whatever the sync configuration says (inventory-requirements.ts); the check is for
// a policy directory that Gatekeeper also runs, and for a sync configuration kept by hand.
import type { SyncConfiguration } from '../gatekeeper/parse-sync-config.js';
import { gatorGvk, type SyncRequirement } from '../gatekeeper/sync-requirements.js';
import type { ConstraintTemplate, Gvk } from '../gatekeeper/types.js';

export interface UnmetTemplate {
  readonly template: string;
  readonly file: string;
  /** In the order the annotation lists them. */
  readonly requirements: readonly SyncRequirement[];
}

const same = (a: Gvk, b: Gvk): boolean => a.group === b.group && a.version === b.version && a.kind === b.kind;

/** The templates with unmet requirements, ordered by template name. */
export function checkSync(templates: readonly ConstraintTemplate[], sync: readonly SyncConfiguration[]): UnmetTemplate[] {
  const synced = sync.flatMap((s) => s.gvks);
  return [...templates]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((t) => ({ template: t.name, file: t.file, requirements: (t.syncRequirements ?? []).filter((r) => !r.alternatives.some((a) => synced.some((s) => same(a, s)))) }))
    .filter((t) => t.requirements.length > 0);
}

/**
 * gator's report of unmet requirements, as it prints it to stderr before exiting 1:
 * "the following requirements were not met: \n<template>:\n- <gvk> OR <gvk>\n...\n". gator's
 * order of templates and of alternatives is Go's map order (random); bouncer's is by template
 * name and the annotation's order.
 */
export function formatUnmet(unmet: readonly UnmetTemplate[]): string {
  const blocks = unmet.map((t) => `${t.template}:\n${t.requirements.map((r) => `- ${r.alternatives.map(gatorGvk).join(' OR ')}`).join('\n')}\n`);
  return `the following requirements were not met: \n${blocks.join('')}\n`;
}
