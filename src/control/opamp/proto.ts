/**
 * OpAMP messages on the wire, from the official protocol definitions
 * (proto/opamp/v1/*.proto, vendored unchanged) read at run time by
 * protobufjs: no generated code to keep in step with the spec. Only the
 * fields nrdot uses are typed below; field names are the .proto's
 * (snake_case). 64-bit integers go in as numbers or decimal strings and come
 * out as numbers (every value nrdot sends or reads fits in 53 bits, except
 * nanosecond times, which stay strings).
 */
import * as path from 'node:path';
import protobuf from 'protobufjs';
import { packageRoot } from '../../util/package.js';

export const AgentCapabilities = {
  ReportsStatus: 0x1,
  AcceptsRemoteConfig: 0x2,
  ReportsEffectiveConfig: 0x4,
  ReportsHealth: 0x800,
  ReportsRemoteConfig: 0x1000,
  ReportsHeartbeat: 0x2000,
} as const;

export const ServerToAgentFlags = { ReportFullState: 0x1 } as const;
export const AgentToServerFlags = { RequestInstanceUid: 0x1 } as const;

export const RemoteConfigStatuses = { UNSET: 0, APPLIED: 1, APPLYING: 2, FAILED: 3 } as const;
export type RemoteConfigStatusCode = (typeof RemoteConfigStatuses)[keyof typeof RemoteConfigStatuses];

export const ServerErrorResponseType = { Unknown: 0, BadRequest: 1, Unavailable: 2 } as const;

export interface AnyValue {
  string_value?: string;
  bool_value?: boolean;
  int_value?: number | string;
  double_value?: number;
}

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface AgentConfigFile {
  body: Uint8Array;
  content_type?: string;
}

export interface AgentConfigMap {
  config_map: Record<string, AgentConfigFile>;
}

export interface ComponentHealth {
  healthy: boolean;
  /** ns since the epoch, decimal */
  start_time_unix_nano?: string;
  last_error?: string;
  status?: string;
  status_time_unix_nano?: string;
}

export interface RemoteConfigStatus {
  last_remote_config_hash?: Uint8Array;
  status?: RemoteConfigStatusCode;
  error_message?: string;
}

export interface AgentToServer {
  instance_uid: Uint8Array;
  sequence_num: number;
  capabilities: number;
  agent_description?: { identifying_attributes: KeyValue[]; non_identifying_attributes: KeyValue[] };
  health?: ComponentHealth;
  effective_config?: { config_map: AgentConfigMap };
  remote_config_status?: RemoteConfigStatus;
  agent_disconnect?: Record<string, never>;
  flags?: number;
}

export interface ServerToAgent {
  instance_uid?: Uint8Array;
  error_response?: { type?: number; error_message?: string; retry_info?: { retry_after_nanoseconds?: number } };
  remote_config?: { config?: AgentConfigMap; config_hash?: Uint8Array };
  flags?: number;
  capabilities?: number;
  agent_identification?: { new_instance_uid?: Uint8Array };
  command?: { type?: number };
}

let root: protobuf.Root | undefined;

/** The parsed definitions (proto/ of the package; `dir` for tests that load another copy). */
export function opampRoot(dir = path.join(packageRoot(), 'proto')): protobuf.Root {
  if (root && dir === path.join(packageRoot(), 'proto')) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => path.join(dir, target);
  r.loadSync('opamp/v1/opamp.proto', { keepCase: true });
  r.resolveAll();
  if (dir === path.join(packageRoot(), 'proto')) root = r;
  return r;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, defaults: false };

/** uint64 fields that come back as decimal strings and are read as numbers. */
function numbersOf<T>(o: Record<string, unknown>, keys: string[]): T {
  for (const k of keys) if (typeof o[k] === 'string') o[k] = Number(o[k]);
  return o as T;
}

export function encodeAgentToServer(msg: AgentToServer): Uint8Array {
  const t = opampRoot().lookupType('opamp.proto.v1.AgentToServer');
  return t.encode(t.fromObject(msg as unknown as Record<string, unknown>)).finish();
}

export function decodeServerToAgent(bytes: Uint8Array): ServerToAgent {
  const t = opampRoot().lookupType('opamp.proto.v1.ServerToAgent');
  const o = t.toObject(t.decode(bytes), TO_OBJECT);
  numbersOf(o, ['flags', 'capabilities']);
  const ri = (o.error_response as { retry_info?: Record<string, unknown> } | undefined)?.retry_info;
  if (ri) numbersOf(ri, ['retry_after_nanoseconds']);
  return o as ServerToAgent;
}

/** For the test server and tools: the other direction. */
export function decodeAgentToServer(bytes: Uint8Array): AgentToServer {
  const t = opampRoot().lookupType('opamp.proto.v1.AgentToServer');
  return numbersOf<AgentToServer>(t.toObject(t.decode(bytes), TO_OBJECT), ['sequence_num', 'capabilities', 'flags']);
}

export function encodeServerToAgent(msg: ServerToAgent): Uint8Array {
  const t = opampRoot().lookupType('opamp.proto.v1.ServerToAgent');
  return t.encode(t.fromObject(msg as unknown as Record<string, unknown>)).finish();
}

export function str(key: string, value: string): KeyValue {
  return { key, value: { string_value: value } };
}
