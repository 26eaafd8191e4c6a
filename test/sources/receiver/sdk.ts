/** The OpenTelemetry JS SDK producing the four instrument kinds the receiver tests look for. */
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationType,
  type IMetricReader,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/** Histogram values recorded (explicit default buckets: 0,5,10,25,50,75,100,250,...). */
export const HISTOGRAM_VALUES = [1, 7, 7, 300];
export const EXP_VALUES = [0.5, 3, 100];

export function sdkProvider(readers: IMetricReader[], attrs: Attributes = { 'service.name': 'sdk-test' }) {
  const provider = new MeterProvider({
    resource: resourceFromAttributes(attrs),
    readers,
    views: [{ instrumentName: 'sdk.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('receiver-test', '1.2.3');
  const counter = meter.createCounter('sdk.counter', { unit: '{req}', description: 'requests' });
  counter.add(5, { route: '/a' });
  counter.add(7, { route: '/a' });
  counter.add(1, { route: '/b' });
  meter.createGauge('sdk.gauge', { unit: 'By' }).record(42.5, { pool: 'p1' });
  const h = meter.createHistogram('sdk.histogram', { unit: 'ms' });
  for (const v of HISTOGRAM_VALUES) h.record(v);
  const e = meter.createHistogram('sdk.exp', { unit: 's' });
  for (const v of EXP_VALUES) e.record(v);
  return provider;
}

/** A reader the test collects from by hand. */
export class ManualReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export async function collectSdkMetrics(): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const provider = sdkProvider([reader]);
  const { resourceMetrics, errors } = await reader.collect();
  await provider.shutdown();
  if (errors.length) throw errors[0];
  return resourceMetrics;
}
