// bouncer uninstall [-n NS]: removes bouncer without leaving a webhook that blocks the cluster
// (the order and its proof are in src/cluster/uninstall.ts).
import { parseDuration } from '../config/settings.js';
import { BOUNCER_SELECTOR, uninstall } from '../cluster/uninstall.js';
import { BouncerError } from '../errors/errors.js';
import { clusterArgs, DEFAULT_NAMESPACE, kubeConfigFor } from './cluster-context.js';
import { EXIT, type CliContext } from './context.js';

const USAGE = `usage: bouncer uninstall [-n NAMESPACE] [--kubeconfig FILE] [--selector LABELS] [--keep-bundles] [--timeout D] [--probe-namespace NS] [--webhooks-only] [--dry-run] [--json]
  1. relaxes (failurePolicy Ignore) and deletes bouncer's webhook configurations,
  2. waits until the API server no longer calls them (proven with probe writes and its /metrics, else a settle time),
  3. then deletes bouncer's other objects (labelled ${BOUNCER_SELECTOR}) and its namespace.
  --webhooks-only stops after step 2 and leaves the rest to its installer (the Helm chart's pre-delete hook).
  Refuses, before deleting anything, while another webhook with failurePolicy Fail sends requests to the namespace.`;

function duration(text: unknown, fallback: number): number {
  if (typeof text !== 'string') return fallback;
  try {
    return parseDuration(text);
  } catch (cause) {
    throw new BouncerError('CONFIG_INVALID', `--timeout: ${(cause as Error).message}\n${USAGE}`);
  }
}

export async function uninstallCommand(ctx: CliContext): Promise<number> {
  const { values } = clusterArgs(
    ctx,
    {
      selector: { type: 'string' },
      'keep-bundles': { type: 'boolean' },
      timeout: { type: 'string' },
      'probe-namespace': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'webhooks-only': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  const namespace = values.namespace ?? ctx.env.BOUNCER_NAMESPACE ?? DEFAULT_NAMESPACE;
  const result = await uninstall(kubeConfigFor(ctx, values), {
    namespace,
    ...(values.selector ? { selector: values.selector } : {}),
    keepBundles: values['keep-bundles'] === true,
    timeoutMs: duration(values.timeout, 60_000),
    ...(values['probe-namespace'] ? { probeNamespace: values['probe-namespace'] } : {}),
    dryRun: values['dry-run'] === true,
    webhooksOnly: values['webhooks-only'] === true,
    log: (line) => (values.json ? undefined : ctx.stdout(`${line}\n`)),
  });
  if (values.json) ctx.stdout(`${JSON.stringify(result)}\n`);
  return EXIT.ok;
}
