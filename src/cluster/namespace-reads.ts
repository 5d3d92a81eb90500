// Direct reads of Namespaces the cache does not hold (one created a moment ago whose watch
// event has not arrived), as Gatekeeper's webhook reads one after a cache miss. One GET per
// name at a time, so a burst of requests in a new Namespace costs one; at most maxInFlight
// names at once, past which the answer is undefined (a match needing it then fails closed).
// Nothing read is stored: the watch stays the one source of what the cache holds.
import type { V1Namespace } from '@kubernetes/client-node';
import { projectNamespace, type NamespaceInfo } from './namespace-projection.js';

export interface NamespaceReadOptions {
  readonly read: (name: string) => Promise<V1Namespace | undefined>;
  readonly maxInFlight: number;
  readonly maxAnnotationChars: number;
  readonly onRead: (result: 'found' | 'missing' | 'error' | 'refused') => void;
  readonly onError: (err: unknown, name: string) => void;
}

export function namespaceReader(options: NamespaceReadOptions): (name: string) => Promise<NamespaceInfo | undefined> {
  const reads = new Map<string, Promise<NamespaceInfo | undefined>>();
  return (name) => {
    const pending = reads.get(name);
    if (pending) return pending;
    if (reads.size >= options.maxInFlight) {
      options.onRead('refused');
      return Promise.resolve(undefined);
    }
    const read = options.read(name).then(
      (ns) => {
        options.onRead(ns ? 'found' : 'missing');
        return ns ? projectNamespace(ns.metadata ?? {}, options.maxAnnotationChars).info : undefined;
      },
      (err: unknown) => {
        options.onRead('error');
        options.onError(err, name);
        return undefined;
      },
    );
    reads.set(name, read);
    void read.finally(() => reads.delete(name));
    return read;
  };
}
