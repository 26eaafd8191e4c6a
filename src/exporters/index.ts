export {
  decodeRequest,
  decodeResponse,
  type ExportMetricsServiceResponse,
  encodeRequest,
  encodeResponse,
} from '../otlp/proto.js';
export {
  describeError,
  EncodedRequest,
  type Exporter,
  type ExportResult,
  encodingsFor,
} from './exporter.js';
export { type ExporterStats, type ExportOutcome, Fanout } from './fanout.js';
export {
  FileExporter,
  type FileExporterOptions,
  makeDirs,
} from './file.js';
export { NoneExporter } from './none.js';
export {
  endpointLabel,
  normalizeHeaders,
  type OtlpExportResult,
  OtlpHttpExporter,
  type OtlpHttpExporterOptions,
  resolveOtlpEndpoint,
} from './otlp/send.js';
export { createSink } from './sink.js';
export {
  type CreateExporterOptions,
  createExporter,
  type ExportSpec,
  parseExportSpec,
  VALID_EXPORT_FORMS,
} from './spec.js';
export { formatRequest, formatResource, StdoutExporter, type StdoutExporterOptions } from './stdout.js';
