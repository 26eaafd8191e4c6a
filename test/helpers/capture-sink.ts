/**
 * An ExportSink for tests of the receiving side: every export decoded from
 * the protobuf bytes an OTLP exporter would put on the wire, its resources
 * kept in `out`.
 */
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
