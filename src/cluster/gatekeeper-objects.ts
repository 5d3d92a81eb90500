// Reads a cluster's Gatekeeper policy objects for `bouncer import gatekeeper --from-cluster`:
// every ConstraintTemplate, and every Constraint of every constraint kind the cluster
// serves. Resources come from the cluster's discovery (/apis and the group versions'
// resource lists), never from a guessed plural: templates at templates.gatekeeper.sh/v1
// (else the group's preferred version), constraints at constraints.gatekeeper.sh/v1beta1
// (else the preferred version), one resource per constraint kind — including kinds whose
// template is gone, so the importer can say it skipped them. Lists are read in pages.
// The objects are returned as the API server gave them; cleaning is the importer's.
import { ApisApi, CustomObjectsApi, type KubeConfig, type V1APIGroup } from '@kubernetes/client-node';
import { BouncerError } from '../errors/errors.js';
import { clusterError } from './bundle-store.js';

const TEMPLATE_GROUP = 'templates.gatekeeper.sh';
const CONSTRAINT_GROUP = 'constraints.gatekeeper.sh';
const PAGE = 500;

export interface ClusterObject {
  readonly object: Record<string, unknown>;
  /** e.g. "cluster constrainttemplates.templates.gatekeeper.sh/k8srequiredlabels". */
  readonly source: string;
}

export interface ClusterGatekeeperObjects {
  /** The API server's URL, for messages. */
  readonly server: string;
  readonly templates: readonly ClusterObject[];
  readonly constraints: readonly ClusterObject[];
  /** The constraint kinds the cluster serves (a template whose kind is missing has no CRD: Gatekeeper did not accept it). */
  readonly constraintKinds: readonly string[];
}

function versionOf(group: V1APIGroup, wanted: string): string {
  return group.versions.some((v) => v.version === wanted) ? wanted : (group.preferredVersion?.version ?? group.versions[0]?.version ?? wanted);
}

export async function readGatekeeperObjects(kc: KubeConfig): Promise<ClusterGatekeeperObjects> {
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const apis = kc.makeApiClient(ApisApi);
  const custom = kc.makeApiClient(CustomObjectsApi);

  const groups = await apis.getAPIVersions().catch((err: unknown) => {
    throw clusterError(err, `reading the API groups of ${server}`);
  });
  const templateGroup = groups.groups.find((g) => g.name === TEMPLATE_GROUP);
  const notInstalled = (what: string) =>
    new BouncerError(
      'GATEKEEPER_NOT_INSTALLED',
      `the cluster at ${server} ${what}: Gatekeeper's CRDs are not installed there (or the kubeconfig's context points at another cluster)`,
    );
  if (!templateGroup) throw notInstalled(`serves no ${TEMPLATE_GROUP} API group`);

  async function resources(group: string, version: string) {
    const list = await custom.getAPIResources({ group, version }).catch((err: unknown) => {
      throw clusterError(err, `reading the resources of ${group}/${version} on ${server}`);
    });
    return list.resources.filter((r) => !r.name.includes('/'));
  }

  async function listAll(group: string, version: string, plural: string, kind: string): Promise<ClusterObject[]> {
    const out: ClusterObject[] = [];
    let next: string | undefined;
    do {
      const page = (await custom.listClusterCustomObject({ group, version, plural, limit: PAGE, ...(next ? { _continue: next } : {}) }).catch((err: unknown) => {
        throw clusterError(err, `listing ${plural}.${group} on ${server}`);
      })) as { items?: Record<string, unknown>[]; metadata?: { continue?: string } };
      for (const item of page.items ?? []) {
        // List items carry their type; set it when a server leaves it out.
        const object: Record<string, unknown> = { apiVersion: `${group}/${version}`, kind, ...item };
        const name = (object.metadata as { name?: unknown } | undefined)?.name;
        out.push({ object, source: `cluster ${plural}.${group}/${String(name)}` });
      }
      next = page.metadata?.continue || undefined;
    } while (next);
    return out;
  }

  const templateVersion = versionOf(templateGroup, 'v1');
  const templateResource = (await resources(TEMPLATE_GROUP, templateVersion)).find((r) => r.kind === 'ConstraintTemplate');
  if (!templateResource) throw notInstalled(`serves no ConstraintTemplate resource in ${TEMPLATE_GROUP}/${templateVersion}`);
  const templates = await listAll(TEMPLATE_GROUP, templateVersion, templateResource.name, 'ConstraintTemplate');

  // No constraints group: no template has had its constraint CRD created yet.
  const constraintGroup = groups.groups.find((g) => g.name === CONSTRAINT_GROUP);
  const constraints: ClusterObject[] = [];
  const constraintKinds: string[] = [];
  if (constraintGroup) {
    const version = versionOf(constraintGroup, 'v1beta1');
    for (const r of await resources(CONSTRAINT_GROUP, version)) {
      constraintKinds.push(r.kind);
      constraints.push(...(await listAll(CONSTRAINT_GROUP, version, r.name, r.kind)));
    }
  }
  return { server, templates, constraints, constraintKinds };
}
