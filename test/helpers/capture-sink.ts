/**
 * An ExportSink for tests of the receiving side: every export decoded from
 * the protobuf bytes an OTLP exporter would put on the wire, its resources
 * kept in `out`.
 */
import { ReceivedDataProcessor, type ReceivingOptions } from '../../src/agent/receiving.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/log.js';
import { EncodedRequest } from '../../src/exporters/exporter.js';
import type { ExportMetricsServiceRequest, ResourceMetrics } from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import type { ExportSink } from '../../src/pipeline/types.js';

export class CaptureSink implements ExportSink {
  out: ResourceMetrics[] = [];
  async start() {}
  async shutdown() {}
  async export(p: ExportMetricsServiceRequest | EncodedRequest, encoded?: Uint8Array) {
    const bytes = encoded ?? (p instanceof EncodedRequest ? p.protobuf() : encodeRequest(p));
    this.out.push(...decodeRequest(bytes).resourceMetrics);
    return [];
  }
}

/** A ReceivedDataProcessor on the conservative profile at a 10 s interval, exporting into a CaptureSink. */
export function receivingInto(o: { config: Config; now: () => number; live?: ReceivingOptions['live'] }): {
  p: ReceivedDataProcessor;
  sink: CaptureSink;
} {
  const sink = new CaptureSink();
  const p = new ReceivedDataProcessor({
    config: o.config,
    profile: () => 'conservative',
    sink,
    logger: silentLogger,
    intervalMs: 10_000,
    now: o.now,
    ...(o.live ? { live: o.live } : {}),
  });
  return { p, sink };
}
