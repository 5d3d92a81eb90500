// Exemplars on prom-client histograms: a histogram built with `enableExemplars` takes its
// observations as one object, with the exemplar's labels beside the value. The label is
// `trace_id`, the OpenTelemetry name Prometheus and Grafana look for by default
// (https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#exemplars);
// exemplars appear only in the OpenMetrics text format.
import type { Histogram } from 'prom-client';

type Labels = Record<string, string>;

/** Observes `value`, with `traceId` as the bucket's exemplar when the request was sampled. */
export function observeWithExemplar<L extends string>(histogram: Histogram<L>, labels: Labels, value: number, traceId: string | undefined): void {
  histogram.observe({ labels, value, ...(traceId ? { exemplarLabels: { trace_id: traceId } } : {}) } as never);
}
