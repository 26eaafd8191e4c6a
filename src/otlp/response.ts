/**
 * OTLP/HTTP response bodies: ExportMetricsServiceResponse on success (with
 * partial success when the sink rejected points) and google.rpc.Status on
 * failure, each in the request's encoding.
 */

import type { BodyEncoding } from '../sources/receiver/decode.js';
import { type ExportMetricsServiceResponse, encodeResponse } from './proto.js';

/** google.rpc.Code values used in Status bodies. */
export const RpcCode = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export const CONTENT_TYPE: Record<BodyEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

function varint(n: number, out: number[]): void {
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

/** google.rpc.Status { code = 1; message = 2 } */
export function encodeStatus(code: number, message: string, encoding: BodyEncoding): Uint8Array | string {
  if (encoding === 'json') return JSON.stringify({ code, message });
  const text = Buffer.from(message, 'utf8');
  const head: number[] = [0x08];
  varint(code, head);
  head.push(0x12);
  varint(text.length, head);
  return Buffer.concat([Uint8Array.from(head), text]);
}

export function successBody(
  rejectedDataPoints: number,
  errorMessage: string | undefined,
  encoding: BodyEncoding,
): Uint8Array | string {
  const res: ExportMetricsServiceResponse = {};
  if (rejectedDataPoints > 0 || errorMessage) {
    res.partialSuccess = {};
    if (rejectedDataPoints > 0) res.partialSuccess.rejectedDataPoints = String(rejectedDataPoints);
    if (errorMessage) res.partialSuccess.errorMessage = errorMessage;
  }
  return encoding === 'json' ? JSON.stringify(res) : encodeResponse(res);
}

/** `application/json; charset=utf-8` → `application/json` */
export function mediaType(header: string | undefined): string {
  if (!header) return '';
  const semi = header.indexOf(';');
  return (semi >= 0 ? header.slice(0, semi) : header).trim().toLowerCase();
}

export function encodingOf(contentType: string | undefined): BodyEncoding | undefined {
  const t = mediaType(contentType);
  if (t === 'application/x-protobuf') return 'protobuf';
  if (t === 'application/json') return 'json';
  return undefined;
}
