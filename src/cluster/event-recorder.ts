// Kubernetes Events about one object (bouncer's own Pod or Deployment: the lead passes the
// reference from POD_NAME/POD_NAMESPACE), for what an operator must see with `kubectl
// describe` and `kubectl get events`: a replicated kind that cannot be listed, the inventory
// budget reached.
// - Fire and forget: record() never throws and never waits; a write that fails is logged and
//   dropped (an Event is a courtesy, never a reason to fail the caller).
// - Rate-limited per (type, reason, message): at most one Event per minIntervalMs for the same
//   text, as client-go's EventRecorder aggregates repeats; the table of last writes is bounded.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventRecorder {
  record(type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Shorthand for record('Warning', ...); an InventoryEventSink. */
  warning(reason: string, message: string): void;
}

export interface EventRecorderOptions {
  readonly involvedObject: InvolvedObject;
  /** source.component and reportingInstance, e.g. "bouncer". */
  readonly component: string;
  readonly logger: { warn(obj: object, msg: string): void };
  readonly minIntervalMs?: number;
  readonly now?: () => number;
}

/** What the recorder writes: one core/v1 Event (tests pass their own). */
export type EventWriter = (namespace: string, body: CoreV1Event) => Promise<unknown>;

const MAX_REMEMBERED = 256;
const MAX_MESSAGE = 1024;

export function createEventRecorder(options: EventRecorderOptions & { readonly kubeConfig: KubeConfig }): EventRecorder {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  return eventRecorder((namespace, body) => core.createNamespacedEvent({ namespace, body }), options);
}

export function eventRecorder(write: EventWriter, options: EventRecorderOptions): EventRecorder {
  const now = options.now ?? Date.now;
  const minIntervalMs = options.minIntervalMs ?? 5 * 60_000;
  const last = new Map<string, number>();
  const { involvedObject: obj } = options;

  const record = (type: 'Normal' | 'Warning', reason: string, message: string): void => {
    const key = `${type}\u0000${reason}\u0000${message}`;
    const t = now();
    const before = last.get(key);
    if (before !== undefined && t - before < minIntervalMs) return;
    last.delete(key);
    last.set(key, t);
    // Oldest first in a Map: drop the oldest past the bound.
    while (last.size > MAX_REMEMBERED) last.delete(last.keys().next().value as string);
    const at = new Date(t);
    const body: CoreV1Event = {
      metadata: { generateName: `${obj.name}.`, namespace: obj.namespace },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.namespace, name: obj.name, ...(obj.uid ? { uid: obj.uid } : {}) },
      type,
      reason,
      message: message.slice(0, MAX_MESSAGE),
      source: { component: options.component },
      reportingComponent: 'bouncer.dev/inventory',
      reportingInstance: options.component,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    };
    try {
      write(obj.namespace, body).catch((err: unknown) => options.logger.warn({ err, reason }, 'a Kubernetes Event could not be written'));
    } catch (err) {
      options.logger.warn({ err, reason }, 'a Kubernetes Event could not be written');
    }
  };

  return { record, warning: (reason, message) => record('Warning', reason, message) };
}
