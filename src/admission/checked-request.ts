// The checked AdmissionRequest that decode.ts builds: its envelope fields checked and typed up
// front, and request.object, request.oldObject and their metadata read through the readers it
// is given (parsed from the body's bytes on first read).
import type { AdmissionRequest, GroupVersionKind, GroupVersionResource, Operation, UserInfo } from './types.js';

export type Envelope = Omit<AdmissionRequest, 'object' | 'oldObject' | 'objectMetadata' | 'oldObjectMetadata'>;

/**
 * A checked request whose objects are read on demand. A class, so that every request has
 * one shape with the readers on its prototype (object literals with getters are built
 * slowly and cost the garbage collector).
 */
export class CheckedRequest implements AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  readonly requestKind?: GroupVersionKind;
  readonly subResource?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: Operation;
  readonly userInfo: UserInfo;
  readonly dryRun: boolean;
  readonly #object: () => unknown;
  readonly #oldObject: () => unknown;
  readonly #metadata: () => Readonly<Record<string, unknown>> | undefined;
  readonly #oldMetadata: () => Readonly<Record<string, unknown>> | undefined;

  constructor(
    envelope: Envelope,
    object: () => unknown,
    oldObject: () => unknown,
    metadata: () => Readonly<Record<string, unknown>> | undefined,
    oldMetadata: () => Readonly<Record<string, unknown>> | undefined,
  ) {
    this.uid = envelope.uid;
    this.kind = envelope.kind;
    this.resource = envelope.resource;
    this.requestKind = envelope.requestKind;
    this.subResource = envelope.subResource;
    this.name = envelope.name;
    this.namespace = envelope.namespace;
    this.operation = envelope.operation;
    this.userInfo = envelope.userInfo;
    this.dryRun = envelope.dryRun === true;
    this.#object = object;
    this.#oldObject = oldObject;
    this.#metadata = metadata;
    this.#oldMetadata = oldMetadata;
  }

  get object(): unknown {
    return this.#object();
  }

  get oldObject(): unknown {
    return this.#oldObject();
  }

  get objectMetadata(): Readonly<Record<string, unknown>> | undefined {
    return this.#metadata();
  }

  get oldObjectMetadata(): Readonly<Record<string, unknown>> | undefined {
    return this.#oldMetadata();
  }
}
