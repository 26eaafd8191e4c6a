/**
 * The three export paths. Every exported resource travels on one lane; the
 * queue drains lanes in this order, so critical data goes first.
 */

export type Lane = 'critical' | 'standard' | 'sampled';

/** Drain order: critical, then standard, then sampled. */
export const LANE_ORDER: readonly Lane[] = ['critical', 'standard', 'sampled'];

/** One request's worth of data on one lane, encoded as OTLP protobuf (not compressed). */
export interface LaneBatch {
  lane: Lane;
  /** an encoded ExportMetricsServiceRequest */
  protobuf: Uint8Array;
  /** data points inside */
  points: number;
  /** resources inside */
  resources: number;
}
