// Reading and rewriting bundle tarballs in tests, to make precisely broken bundles from
// real ones.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { readBundleArchive } from '../../src/bundles/archive.js';

export async function bundleFiles(file: string): Promise<Map<string, Uint8Array>> {
  return new Map(await readBundleArchive(readFileSync(file)));
}

/** A gzipped tarball of `files` (entry names as given, so tests can also write hostile ones). */
export async function packBundle(files: ReadonlyMap<string, Uint8Array | string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const [name, content] of files) p.entry({ name }, Buffer.from(content));
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** The bundle in `file` with `edit` applied to its files. */
export async function editBundle(file: string, edit: (files: Map<string, Uint8Array>) => void): Promise<Buffer> {
  const files = await bundleFiles(file);
  edit(files);
  return packBundle(files);
}

export function reviewBytes(request: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
}

/** A ConfigMap CREATE request (the object the basic test policies look at). */
export function configMapRequest(labels: Record<string, string> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uid: 'uid-1',
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    resource: { group: '', version: 'v1', resource: 'configmaps' },
    operation: 'CREATE',
    namespace: 'team-a',
    name: 'cm',
    userInfo: { username: 'alice' },
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'team-a', labels }, data: { x: '1' } },
    oldObject: null,
    ...extra,
  };
}

/** A Pod CREATE request for `pod` (its name and namespace taken from its metadata). */
export function podRequest(pod: { metadata: { name: string; namespace: string } } & Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uid: 'uid-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    operation: 'CREATE',
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    userInfo: { username: 'alice' },
    object: pod,
    oldObject: null,
    ...extra,
  };
}

/** A Pod that breaks only the starter library's disallow-privileged policy (it satisfies every other one). */
export function privilegedPod<M extends Record<string, unknown>>(name: string, metadata: M = {} as M) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...metadata } as { name: string } & M,
    spec: {
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: 'registry.k8s.io/pause:3.10',
          securityContext: { privileged: true },
          resources: { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '50m', memory: '32Mi' } },
        },
      ],
    },
  };
}
