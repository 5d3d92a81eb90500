// Tracing (tracing.ts) with the OpenTelemetry SDK's light pieces: a TracerProvider with a
// batch processor and the OTLP/HTTP exporter, no auto-instrumentation and nothing registered
// globally (no global provider, propagator or context manager: the request's context is
// passed along explicitly, and the current request found through one AsyncLocalStorage). The
// exporter itself reads the OTEL_EXPORTER_OTLP_* transport settings it owns (headers,
// timeout, compression, certificates); the endpoint, sampler and resource come from the
// configuration (src/config/tracing-config.ts). Every span's times are given, from
// performance.now() on one wall-clock anchor per request: the SDK anchors each span to
// Date.now() on its own (millisecond steps), which can put a child span before its parent.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, defaultTextMapGetter, type Context, type HrTime, type Span, type Tracer } from '@opentelemetry/api';
import { millisToHrTime, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { SamplerName, TracingConfig } from '../config/tracing-config.js';
import { MAX_ATTRIBUTE_LENGTH, outcomeAttributes, requestAttributes, responseAttributes, reviewAttributes, type RequestTrace, type ReviewSpan, type Tracing } from './tracing.js';

export interface OtelTracingOptions {
  readonly config: TracingConfig;
  /** Replaces the OTLP exporter (tests). */
  readonly exporter?: SpanExporter;
  /** The batch processor's delay between exports (default 5 s, OpenTelemetry's). */
  readonly exportDelayMs?: number;
  readonly version?: string;
}

function sampler(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

const NO_REVIEW: ReviewSpan = { evaluation: (run) => run(), end: () => undefined };

/** A request's clock: performance.now() readings (default: now) as wall-clock times, on one anchor. */
type Clock = (at?: number) => HrTime;

function clock(): Clock {
  const anchor = Date.now() - performance.now();
  return (at = performance.now()) => millisToHrTime(anchor + at);
}

function requestTrace(tracer: Tracer, server: Span, time: Clock): RequestTrace {
  const recording = server.isRecording();
  const parent: Context = trace.setSpan(ROOT_CONTEXT, server);
  let reviewContext: Context = parent;
  return {
    sampledTraceId: recording ? server.spanContext().traceId : undefined,
    admission(request) {
      if (recording) server.setAttributes(requestAttributes(request));
    },
    response(uid, decision) {
      if (recording) server.setAttributes(responseAttributes(uid, decision));
    },
    review() {
      if (!recording) return NO_REVIEW;
      const span = tracer.startSpan('review', { kind: SpanKind.INTERNAL, startTime: time() }, parent);
      reviewContext = trace.setSpan(parent, span);
      let window: { start: number; end: number } | undefined;
      return {
        async evaluation(run) {
          const start = performance.now();
          try {
            return await run();
          } finally {
            window = { start, end: performance.now() };
          }
        },
        end(decision) {
          span.setAttributes(reviewAttributes(decision));
          if (window) {
            const cached = decision.cached === true;
            for (const o of decision.outcomes) {
              const policy = tracer.startSpan(`policy ${o.policy}`.slice(0, MAX_ATTRIBUTE_LENGTH), { kind: SpanKind.INTERNAL, startTime: time(window.start), attributes: outcomeAttributes(o, cached) }, reviewContext);
              if (o.action === 'error') policy.setStatus({ code: SpanStatusCode.ERROR, message: o.error?.code ?? 'error' });
              policy.end(time(window.end));
            }
          } else {
            // Cached, or nothing evaluated: the outcomes are the review's, at its end.
            const at = time();
            for (const o of decision.outcomes) {
              tracer.startSpan(`policy ${o.policy}`.slice(0, MAX_ATTRIBUTE_LENGTH), { kind: SpanKind.INTERNAL, startTime: at, attributes: outcomeAttributes(o, decision.cached === true) }, reviewContext).end(at);
            }
          }
          span.end(time());
        },
      };
    },
    async client(name, attributes, call) {
      if (!recording) return call();
      const span = tracer.startSpan(name.slice(0, MAX_ATTRIBUTE_LENGTH), { kind: SpanKind.CLIENT, attributes, startTime: time() }, reviewContext);
      try {
        return await call();
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message.slice(0, MAX_ATTRIBUTE_LENGTH) : 'failed' });
        throw err;
      } finally {
        span.end(time());
      }
    },
    end(statusCode) {
      if (!recording) return;
      server.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500) server.setStatus({ code: SpanStatusCode.ERROR });
      server.end(time());
    },
  };
}

/** Tracing exported over OTLP/HTTP. Nothing happens at import; everything starts here. */
export function createOtelTracing(options: OtelTracingOptions): Tracing {
  const { config } = options;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName, ...(options.version ? { 'service.version': options.version } : {}) }),
    sampler: sampler(config.sampler, config.ratio),
    spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_LENGTH, attributeCountLimit: 64, eventCountLimit: 16, linkCountLimit: 4 },
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: options.exporter ?? new OTLPTraceExporter({ url: config.tracesUrl }),
        ...(options.exportDelayMs !== undefined ? { scheduledDelayMillis: options.exportDelayMs } : {}),
      }),
    ],
  });
  const tracer = provider.getTracer('bouncer', options.version);
  const propagator = new W3CTraceContextPropagator();
  const current = new AsyncLocalStorage<RequestTrace>();
  return {
    startRequest({ method, path, traceparent, tracestate }) {
      const carrier: Record<string, string> = {};
      if (traceparent !== undefined) carrier.traceparent = traceparent;
      if (tracestate !== undefined) carrier.tracestate = tracestate;
      const parent = traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
      const time = clock();
      const server = tracer.startSpan(
        `${method} ${path}`.slice(0, MAX_ATTRIBUTE_LENGTH),
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path.slice(0, MAX_ATTRIBUTE_LENGTH) }, startTime: time() },
        parent,
      );
      return requestTrace(tracer, server, time);
    },
    run: (request, fn) => current.run(request, fn),
    current: () => current.getStore(),
    shutdown: () => provider.shutdown(),
  };
}
