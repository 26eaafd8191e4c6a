/** The OTLP/HTTP receiver and the pieces around it. */

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
