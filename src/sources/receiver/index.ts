/** The OTLP/HTTP receiver and the pieces around it. */

export { HostmetricsSource, POINTS_PER_PROCESS, PROCESS_SCRAPER_SCOPE } from '../../harness/hostmetrics.js';
export { HostmetricsEncoder } from '../../harness/hostmetrics-pb.js';
export { type LoadOptions, type LoadReport, type LoadSummary, runLoad } from '../../harness/load.js';
export { decodeJsonObject, decodeJsonRequest } from '../../otlp/decode/json-decode.js';
export { decodeProtobufRequest } from '../../otlp/decode/pb-decode.js';
export { OtlpDecodeError } from '../../otlp/decode/wire.js';
export type { BodyEncoding } from './decode.js';
export {
  groupByHost,
  isProcessMetric,
  isProcessResource,
  type ReceivedBatch,
  type SplitRequest,
  splitRequest,
  toProcessBatch,
} from './mapping.js';
export {
  DEFAULT_WORKER_THRESHOLD_BYTES,
  type OtlpReceiver,
  type ReceiverOptions,
  type ReceiverSink,
  type ReceiverStats,
  startOtlpReceiver,
} from './server.js';
