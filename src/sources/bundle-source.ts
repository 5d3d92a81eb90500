// Where policy bundles come from. Every source (bundle files, a development policy
// directory, the ConfigMap watch) is started, stopped and asked for readiness the same way;
// main.ts starts them in order and the replica is ready only when all of them are.

export interface Readiness {
  readonly ready: boolean;
  /** Why not ready, for the probe's body and the operator. */
  readonly reason?: string;
}

export interface BundleSource {
  /** Name in logs and readiness reasons. */
  readonly name: string;
  /** Loads what the source holds now; resolves once its initial bundles were processed. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readiness(): Readiness;
}

/** Ready when every source is; otherwise the first source's reason. */
export function combinedReadiness(sources: readonly BundleSource[]): Readiness {
  for (const source of sources) {
    const r = source.readiness();
    if (!r.ready) return { ready: false, reason: `${source.name}: ${r.reason ?? 'not ready'}` };
  }
  return { ready: true };
}
