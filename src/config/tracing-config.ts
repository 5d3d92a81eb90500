// The tracing part of `bouncer serve`'s configuration, from the settings of the Tracing group
// (serve-settings.ts). The settings read the standard OpenTelemetry variables
// (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/), so a
// deployment configured for any OpenTelemetry SDK configures bouncer the same way. Tracing is
// off unless an OTLP endpoint is given (and OTEL_SDK_DISABLED is not true): nothing of the SDK
// is loaded then.
import type { Values } from './settings.js';
import type { ServeSettings } from './serve-settings.js';

export type SamplerName = 'parentbased_traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'traceidratio' | 'always_on' | 'always_off';

export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP, JSON). */
  readonly tracesUrl: string;
  readonly sampler: SamplerName;
  /** The ratio of the traceidratio samplers (0..1). */
  readonly ratio: number;
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

/** A number from 0 to 1 (a sampling ratio). */
export function fraction(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`must be a number from 0 to 1, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs separated by commas, values percent-encoded
 * (the W3C Baggage format). A pair without `=` or with a bad escape is an error, not skipped.
 */
export function parseResourceAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (key === '') throw new Error(`resource attributes are key=value pairs separated by commas, got ${JSON.stringify(pair)}`);
    try {
      attributes[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new Error(`the value of resource attribute ${key} is not percent-encoded correctly`);
    }
  }
  return attributes;
}

/** OTLP/HTTP: a signal-specific endpoint is used as is; the general one gets /v1/traces appended. */
function tracesUrl(v: Values<ServeSettings>): string | undefined {
  if (v.otlpTracesEndpoint) return v.otlpTracesEndpoint;
  if (!v.otlpEndpoint) return undefined;
  return `${v.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
}

/** `{ tracing }` when tracing is on, `{}` otherwise. Throws a plain Error naming the bad setting. */
export function tracingConfig(v: Values<ServeSettings>): { tracing?: TracingConfig } {
  const url = tracesUrl(v);
  if (url === undefined || v.otelSdkDisabled === true) return {};
  let resourceAttributes: Record<string, string>;
  try {
    resourceAttributes = v.otelResourceAttributes ? parseResourceAttributes(v.otelResourceAttributes) : {};
  } catch (err) {
    throw new Error(`--otel-resource-attributes (OTEL_RESOURCE_ATTRIBUTES): ${(err as Error).message}`);
  }
  return {
    tracing: Object.freeze({
      tracesUrl: url,
      sampler: v.traceSampler,
      ratio: v.traceSamplerArg,
      serviceName: v.otelServiceName,
      resourceAttributes: Object.freeze(resourceAttributes),
    }),
  };
}
