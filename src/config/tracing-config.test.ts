import { describe, expect, it } from 'vitest';
import { loadServeConfig } from './serve-config.js';
import { parseResourceAttributes } from './tracing-config.js';

const base = ['--bundle', 'b=/tmp/b.tar.gz', '--tls-cert', '/tmp/c', '--tls-key', '/tmp/k'];
const load = (args: string[] = [], env: Record<string, string> = {}) => loadServeConfig([...base, ...args], env, () => 1);

describe('serve configuration: tracing', () => {
  it('is off without an OTLP endpoint, whatever else is set', () => {
    expect(load().tracing).toBeUndefined();
    expect(load([], { OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }).tracing).toBeUndefined();
  });

  it('reads the standard OTEL_* variables: the general endpoint gets /v1/traces, the traces endpoint is used as is', () => {
    expect(load([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      sampler: 'parentbased_traceidratio',
      ratio: 1,
      serviceName: 'bouncer',
      resourceAttributes: {},
    });
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp',
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
      OTEL_SERVICE_NAME: 'bouncer-prod',
      OTEL_RESOURCE_ATTRIBUTES: 'k8s.cluster.name=east,team=a%2Cb',
    };
    expect(load([], env).tracing).toEqual({ tracesUrl: 'https://traces.example/otlp', sampler: 'traceidratio', ratio: 0.01, serviceName: 'bouncer-prod', resourceAttributes: { 'k8s.cluster.name': 'east', team: 'a,b' } });
  });

  it('takes flags over the variables, and OTEL_SDK_DISABLED switches it off', () => {
    const config = load(['--otlp-endpoint', 'http://flag:4318', '--trace-sampler-arg', '0.5'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318', OTEL_TRACES_SAMPLER_ARG: '0.1' });
    expect(config.tracing).toMatchObject({ tracesUrl: 'http://flag:4318/v1/traces', ratio: 0.5 });
    expect(load([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined();
  });

  it.each([
    [{ OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1'],
    [{ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, 'OTEL_TRACES_SAMPLER'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'novalue' }, 'resource attributes are key=value pairs'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'a=%zz' }, 'not percent-encoded correctly'],
  ])('refuses %j with a clear message', (env, message) => {
    expect(() => load([], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', ...env })).toThrow(message);
  });

  it('parses the W3C baggage format of OTEL_RESOURCE_ATTRIBUTES', () => {
    expect(parseResourceAttributes(' a = 1 ,, b=x%20y ')).toEqual({ a: '1', b: 'x y' });
  });
});
