// A source whose bundles are known at startup and never change: bundle files given with
// --bundle, or the development policy directory built once with the OPA CLI (--policies).
// Any bundle that cannot be read, built or loaded fails the start: there is no last good
// set to fall back on.
import type { LoadedBundle } from '../bundles/bundle.js';
import type { PolicyRegistry } from '../bundles/registry.js';
import type { BundleSource, Readiness } from './bundle-source.js';

export interface StaticBundle {
  readonly name: string;
  /** Reads (or builds) the bundle's bytes. */
  readonly bytes: () => Promise<Uint8Array>;
}

export interface StaticBundleSourceOptions {
  readonly name: string;
  readonly bundles: readonly StaticBundle[];
  readonly load: (name: string, bytes: Uint8Array) => Promise<LoadedBundle>;
  readonly registry: PolicyRegistry;
  readonly log: { info(obj: object, msg: string): void };
}

export function createStaticBundleSource(options: StaticBundleSourceOptions): BundleSource {
  let loaded = false;
  return {
    name: options.name,
    async start() {
      for (const { name, bytes } of options.bundles) {
        const bundle = await options.load(name, await bytes());
        options.registry.activate(bundle);
        options.log.info({ bundle: name, revision: bundle.revision, policies: bundle.policies.length }, 'bundle activated');
      }
      loaded = true;
    },
    async stop() {},
    readiness(): Readiness {
      return loaded ? { ready: true } : { ready: false, reason: 'bundles are loading' };
    },
  };
}
