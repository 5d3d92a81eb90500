// A reviewer over real compiled bundles, for in-process tests of the handler and the HTTP edge.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { loadBundle } from '../../src/bundles/bundle.js';
import { createPolicyRegistry, type PolicyRegistry } from '../../src/bundles/registry.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';

export async function registryOf(bundles: Record<string, string>): Promise<PolicyRegistry> {
  const loaded = await Promise.all(Object.entries(bundles).map(([name, file]) => loadBundle(name, readFileSync(file))));
  return createPolicyRegistry(loaded);
}

/** A logger whose lines are collected as objects. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}
