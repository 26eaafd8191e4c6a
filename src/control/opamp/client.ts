/**
 * The OpAMP agent side over the plain HTTP transport: each exchange is one
 * POST of an AgentToServer and the ServerToAgent answer (protobuf). The
 * agent polls every `pollIntervalMs`, and at once when it has something new
 * to say (a remote config's status, health, effective config).
 *
 * Capabilities: ReportsStatus, ReportsHeartbeat, ReportsHealth,
 * ReportsEffectiveConfig, AcceptsRemoteConfig, ReportsRemoteConfig. The first
 * message (and any after a failed exchange, or when the server asks with
 * ReportFullState) carries the full state; later ones only what changed.
 *
 * Remote configs: the config map must hold one config file, optionally with
 * its signature as a second entry `<name>.sig` (base64 DER, as FILE.sig).
 * When signatures are required the signature is verified here, before the
 * config reaches `apply`; a config that fails is reported FAILED with the
 * reason and never applied. `apply` (the agent's checked apply) answers ok or
 * the reason it refused; the status goes back as APPLIED or FAILED. A config
 * applied and later rolled back by the agent is reported FAILED through
 * `reportRolledBack`.
 *
 * When the server cannot be reached, the agent keeps running its config and
 * retries with exponential backoff and jitter (Retry-After and the server's
 * retry_info win).
 */
import { createHash } from 'node:crypto';
import { type Logger, silentLogger } from '../../core/log.js';
import type { CarriedSignature, SignaturePolicy } from '../config/signed.js';
import { type Description, formatUuid } from './identity.js';
import {
  AgentCapabilities,
  type AgentToServer,
  type ComponentHealth,
  type KeyValue,
  type RemoteConfigStatus,
  RemoteConfigStatuses,
  ServerErrorResponseType,
  type ServerToAgent,
  ServerToAgentFlags,
  str,
} from './proto.js';
import { unpackRemoteConfig } from './remote-config.js';
import { exchange, retryDelay } from './transport.js';

export const CAPABILITIES =
  AgentCapabilities.ReportsStatus |
  AgentCapabilities.AcceptsRemoteConfig |
  AgentCapabilities.ReportsEffectiveConfig |
  AgentCapabilities.ReportsHealth |
  AgentCapabilities.ReportsRemoteConfig |
  AgentCapabilities.ReportsHeartbeat;

export interface RemoteConfigMeta {
  /** the config's name in the config map */
  name: string;
  /** the server's config_hash */
  configHash: Uint8Array;
  /** the `<name>.sig` entry, when there is one */
  signature?: CarriedSignature;
  /** the trusted key that verified it (when signatures are required) */
  keyId?: string;
}

export type ApplyRemote = (bytes: Buffer, meta: RemoteConfigMeta) => Promise<{ ok: boolean; error?: string }>;

export interface AgentHealth {
  healthy: boolean;
  status?: string;
  lastError?: string;
}

export interface EffectiveFile {
  name: string;
  /** as written: references unexpanded */
  bytes: Uint8Array;
  contentType?: string;
}

export interface OpampClientOptions {
  /** POST target, e.g. https://opamp.example.com/v1/opamp */
  endpoint: string;
  headers?: Record<string, string>;
  instanceUid: Uint8Array;
  /** the server assigned a new instance_uid: keep it */
  onInstanceUid?: (uid: Uint8Array) => void;
  description: Description;
  pollIntervalMs: number;
  health: () => AgentHealth;
  effectiveConfig: () => EffectiveFile[];
  apply: ApplyRemote;
  /** the running config's signature policy */
  signaturePolicy: () => SignaturePolicy;
  /**
   * A remote config this client refused itself (no single config file, a
   * signature that does not verify), before `apply` saw it: for the audit log.
   */
  onRefused?: (e: { reason: string; bodySha256?: string }) => void;
  logger?: Logger;
  /** first retry delay (default 1 s); doubles up to maxBackoffMs (default 5 min) */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** [0, 1) for jitter (default Math.random); the delay is (0.8 + 0.4 * r) of the backoff (RETRY_JITTER) */
  random?: () => number;
  /** wall clock, ms (default Date.now) */
  now?: () => number;
  /** per-request timeout (default 30 s) */
  timeoutMs?: number;
}

export interface OpampStats {
  /** exchanges that got an answer */
  exchanges: number;
  failures: number;
  consecutiveFailures: number;
  /** retry delays chosen after failures, newest last (at most 50) */
  retryDelaysMs: number[];
  lastError?: string;
}

interface SentKeys {
  description?: string;
  health?: string;
  effective?: string;
  remote?: string;
}

const toNanos = (ms: number) => (BigInt(Math.round(ms)) * 1_000_000n).toString();

function keyValues(o: Record<string, string>): KeyValue[] {
  return Object.entries(o).map(([k, v]) => str(k, v));
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return !!a && !!b && Buffer.from(a).equals(Buffer.from(b));
}

export class OpampClient {
  private uid: Uint8Array;
  private seq = 0;
  private full = true;
  private stopped = false;
  private started = false;
  private loopDone: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private pending = false;
  private remoteStatus: RemoteConfigStatus | undefined;
  private lastRemote: { configHash: Uint8Array; bodySha256?: string } | undefined;
  private applying: Promise<void> = Promise.resolve();
  private readonly startMs: number;
  private healthSince: { key: string; ms: number } | undefined;
  private sent: SentKeys = {};
  private readonly inFlight = new AbortController();
  private readonly logger: Logger;
  private readonly now: () => number;
  readonly stats: OpampStats = { exchanges: 0, failures: 0, consecutiveFailures: 0, retryDelaysMs: [] };

  constructor(private readonly o: OpampClientOptions) {
    this.uid = o.instanceUid;
    this.logger = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
    this.startMs = this.now();
  }

  get instanceUid(): Uint8Array {
    return this.uid;
  }

  /** The status last set for the last remote config (UNSET before any). */
  get remoteConfigStatus(): RemoteConfigStatus | undefined {
    return this.remoteStatus;
  }

  /** Begin exchanging with the server. Safe to call twice. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.loopDone = this.loop();
  }

  /** Something changed (health, effective config): tell the server now rather than at the next poll. */
  wake(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  /**
   * The agent rolled back a config after applying it (failed health check):
   * if it was the last remote config (`bodySha256`, SHA-256 of its bytes, as
   * the lifecycle reports it), report it FAILED with the reason. Returns
   * whether it was.
   */
  reportRolledBack(bodySha256: string, reason: string): boolean {
    if (!this.lastRemote || this.lastRemote.bodySha256 !== bodySha256) return false;
    this.setRemoteStatus(RemoteConfigStatuses.FAILED, `rolled back after it was applied: ${reason}`);
    return true;
  }

  private setRemoteStatus(status: RemoteConfigStatus['status'], error?: string): void {
    this.remoteStatus = {
      last_remote_config_hash: this.lastRemote?.configHash,
      status,
      ...(error ? { error_message: error } : {}),
    };
    this.wake();
  }

  // ---- the exchange loop -------------------------------------------------

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.pending = false;
      const msg = this.message();
      let answer: ServerToAgent;
      try {
        answer = await this.exchange(msg);
        if (this.stopped) break;
      } catch (e) {
        if (this.stopped) break;
        this.full = true;
        this.stats.failures++;
        this.stats.consecutiveFailures++;
        this.stats.lastError = (e as Error).message;
        const delay = this.retryDelay(e);
        this.stats.retryDelaysMs.push(delay);
        if (this.stats.retryDelaysMs.length > 50) this.stats.retryDelaysMs.shift();
        const log = { endpoint: this.o.endpoint, err: (e as Error).message, retryInMs: delay };
        if (this.stats.consecutiveFailures === 1)
          this.logger.warn(log, 'opamp: server not reachable; running config unchanged, retrying');
        else this.logger.debug(log, 'opamp: still not reachable');
        await this.sleep(delay, false);
        continue;
      }
      if (this.stats.consecutiveFailures > 0) this.logger.info({ endpoint: this.o.endpoint }, 'opamp: connected');
      this.stats.exchanges++;
      this.stats.consecutiveFailures = 0;
      this.commitSent(msg);
      this.handle(answer);
      if (!this.pending) await this.sleep(this.o.pollIntervalMs, true);
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      // a wake during a backoff does not cut it short: the server is away
      this.wakeUp = wakeable ? done : undefined;
      if (this.stopped) done();
      this.stopWait = done;
    });
  }

  private stopWait: (() => void) | undefined;

  private retryDelay(e: unknown): number {
    return retryDelay(this.stats.consecutiveFailures, e, {
      initialMs: this.o.initialBackoffMs ?? 1000,
      maxMs: this.o.maxBackoffMs ?? 300_000,
      random: this.o.random ?? Math.random,
    });
  }

  // ---- building messages ---------------------------------------------------

  private describe(): AgentToServer['agent_description'] {
    return {
      identifying_attributes: keyValues(this.o.description.identifying),
      non_identifying_attributes: keyValues(this.o.description.nonIdentifying),
    };
  }

  private healthMessage(): ComponentHealth {
    const h = this.o.health();
    const key = `${h.healthy}|${h.status ?? ''}|${h.lastError ?? ''}`;
    if (!this.healthSince || this.healthSince.key !== key) this.healthSince = { key, ms: this.now() };
    return {
      healthy: h.healthy,
      start_time_unix_nano: toNanos(this.startMs),
      ...(h.status ? { status: h.status } : {}),
      ...(h.lastError ? { last_error: h.lastError } : {}),
      status_time_unix_nano: toNanos(this.healthSince.ms),
    };
  }

  private effective(): { config_map: { config_map: Record<string, { body: Uint8Array; content_type: string }> } } {
    const map: Record<string, { body: Uint8Array; content_type: string }> = {};
    for (const f of this.o.effectiveConfig())
      map[f.name] = { body: f.bytes, content_type: f.contentType ?? 'text/yaml' };
    return { config_map: { config_map: map } };
  }

  private message(): AgentToServer & { _keys: SentKeys } {
    const desc = this.describe();
    const health = this.healthMessage();
    const eff = this.effective();
    const keys = {
      description: JSON.stringify(desc),
      health: JSON.stringify({ ...health, status_time_unix_nano: undefined }),
      effective: createHash('sha256')
        .update(
          JSON.stringify(
            Object.entries(eff.config_map.config_map).map(([k, v]) => [k, Buffer.from(v.body).toString('base64')]),
          ),
        )
        .digest('hex'),
      remote: JSON.stringify(this.remoteStatus ?? null, (_k, v) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
      ),
    };
    const full = this.full;
    const msg: AgentToServer & { _keys: typeof keys } = {
      instance_uid: this.uid,
      sequence_num: ++this.seq,
      capabilities: CAPABILITIES,
      _keys: keys,
    };
    if (full || keys.description !== this.sent.description) msg.agent_description = desc;
    if (full || keys.health !== this.sent.health) msg.health = health;
    if (full || keys.effective !== this.sent.effective) msg.effective_config = eff;
    if ((full || keys.remote !== this.sent.remote) && this.remoteStatus) msg.remote_config_status = this.remoteStatus;
    return msg;
  }

  private commitSent(msg: { _keys: SentKeys }): void {
    this.sent = msg._keys;
    this.full = false;
  }

  // ---- the transport -------------------------------------------------------

  private async exchange(msg: AgentToServer & { _keys?: unknown }, signal?: AbortSignal): Promise<ServerToAgent> {
    const { _keys, ...wire } = msg;
    const answer = await exchange(wire, {
      endpoint: this.o.endpoint,
      headers: this.o.headers,
      timeoutMs: this.o.timeoutMs ?? 30_000,
      signal: signal ?? this.inFlight.signal,
      now: this.now,
    });
    const err = answer.error_response;
    if (err) this.logger.error({ type: err.type, error: err.error_message }, 'opamp: the server refused a message');
    return answer;
  }

  // ---- what the server says ------------------------------------------------

  private handle(s: ServerToAgent): void {
    const uid = s.agent_identification?.new_instance_uid;
    if (uid && uid.length === 16 && !same(uid, this.uid)) {
      this.logger.info('opamp: the server assigned a new instance_uid');
      this.uid = new Uint8Array(uid);
      this.o.onInstanceUid?.(this.uid);
      const ident = this.o.description.identifying;
      if ('service.instance.id' in ident) ident['service.instance.id'] = formatUuid(this.uid);
      this.full = true;
      this.pending = true;
    }
    if (s.error_response?.type === ServerErrorResponseType.BadRequest) {
      this.full = true;
      this.pending = true;
    }
    if (((s.flags ?? 0) & ServerToAgentFlags.ReportFullState) !== 0) {
      this.full = true;
      this.pending = true;
    }
    if (s.remote_config) this.onRemoteConfig(s.remote_config);
  }

  private onRemoteConfig(rc: NonNullable<ServerToAgent['remote_config']>): void {
    const hash = rc.config_hash ?? new Uint8Array();
    if (this.lastRemote && same(this.lastRemote.configHash, hash)) return; // already handled
    this.lastRemote = { configHash: new Uint8Array(hash) };
    const remote = this.lastRemote;
    this.applying = this.applying.then(() => this.applyRemote(rc, remote));
  }

  private async applyRemote(
    rc: NonNullable<ServerToAgent['remote_config']>,
    remote: { configHash: Uint8Array; bodySha256?: string },
  ): Promise<void> {
    if (this.lastRemote !== remote || this.stopped) return; // superseded before its turn
    const fail = (why: string) => {
      this.logger.warn({ reason: why }, 'opamp: remote config refused');
      this.setRemoteStatus(RemoteConfigStatuses.FAILED, why);
    };
    const u = unpackRemoteConfig(rc.config, this.o.signaturePolicy());
    if (u.bodySha256) remote.bodySha256 = u.bodySha256;
    if (!u.ok) {
      this.o.onRefused?.({ reason: u.error, ...(u.bodySha256 ? { bodySha256: u.bodySha256 } : {}) });
      return fail(u.error);
    }
    const { name, bytes, signature, keyId } = u;
    this.setRemoteStatus(RemoteConfigStatuses.APPLYING);
    let r: { ok: boolean; error?: string };
    try {
      r = await this.o.apply(bytes, {
        name,
        configHash: remote.configHash,
        ...(signature ? { signature } : {}),
        ...(keyId ? { keyId } : {}),
      });
    } catch (e) {
      r = { ok: false, error: `the agent could not apply it: ${(e as Error).message}` };
    }
    if (this.lastRemote !== remote) return;
    if (r.ok) {
      this.logger.info({ name, keyId }, 'opamp: remote config applied');
      this.setRemoteStatus(RemoteConfigStatuses.APPLIED);
    } else {
      fail(r.error ?? 'refused');
    }
  }

  /**
   * Stop: tell the server this agent is going (AgentDisconnect, best effort,
   * at most 2 s) and end the loop. Safe to call twice.
   */
  async shutdown(): Promise<void> {
    if (this.stopped) {
      await this.loopDone;
      return;
    }
    this.stopped = true;
    this.stopWait?.();
    this.inFlight.abort();
    await this.loopDone;
    await this.applying.catch(() => undefined);
    if (!this.started || this.stats.exchanges === 0) return;
    try {
      const { _keys, ...msg } = this.message();
      await this.exchange({ ...msg, agent_disconnect: {} }, AbortSignal.timeout(2000));
    } catch {
      // the server is away: nothing to tell
    }
  }
}
