/** The OTLP/HTTP receiver and the pieces around it. */
export type { BodyEncoding } from './decode.js';
export { HostmetricsSource, POINTS_PER_PROCESS, PROCESS_SCRAPER_SCOPE } from './hostmetrics.js';
export { HostmetricsEncoder } from './hostmetrics-pb.js';
export { decodeJsonObject, decodeJsonRequest } from './json-decode.js';
export { type LoadOptions, type LoadReport, type LoadSummary, runLoad } from './load.js';
export {
  groupByHost,
  isProcessMetric,
  isProcessResource,
  type ReceivedBatch,
  type SplitRequest,
  splitRequest,
  toProcessBatch,
} from './mapping.js';
export { decodeProtobufRequest } from './pb-decode.js';
export {
  DEFAULT_LISTEN,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_WORKER_THRESHOLD_BYTES,
  type OtlpReceiver,
  type ReceiverOptions,
  type ReceiverSink,
  type ReceiverStats,
  startOtlpReceiver,
} from './server.js';
export { OtlpDecodeError } from './wire.js';
