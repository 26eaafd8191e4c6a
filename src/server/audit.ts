/**
 * The audit log: one JSON line per profile-change request over HTTP, granted
 * or refused, and per config change or refusal. Lines are appended in order;
 * the token and secret values never reach them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../core/log.js';
import { processSecrets } from '../util/redact.js';

export type AuditOutcome =
  | 'ok'
  /** no token configured on the server */
  | 'disabled'
  /** no or malformed Authorization header */
  | 'unauthorized'
  /** wrong token */
  | 'forbidden'
  | 'too_large'
  | 'invalid'
  | 'unknown_profile'
  | 'error'
  /** attempts refused with 429 during one rate-limit block (one summary line: `count`) */
  | 'rate_limited';

export interface AuditEntry {
  /** ISO 8601 */
  time: string;
  /**
   * the authenticated identity: the token's (`token:<file name>`, `env:NRDOT_TOKEN`),
   * or `unauthenticated` when the request did not present the right token
   */
  who: string;
  /** the client's address */
  remote: string;
  /** what the client says about itself (X-Nrdot-User): unverified, for humans only */
  claimed_by?: string;
  action: 'profile.set';
  /** the profile asked for, when the request got far enough to say */
  requested?: string;
  before: string;
  after: string;
  reason?: string;
  outcome: AuditOutcome;
  /** HTTP status answered */
  status: number;
  /** rate_limited: attempts refused during the block, and when it started and ended (ISO 8601) */
  count?: number;
  from?: string;
  until?: string;
}

/** What happened to a config: refused (signature, validation), applied, rolled back. */
export type ConfigAuditAction = 'config.refused' | 'config.apply' | 'config.rollback';

/**
 * One line per config change or refusal (src/control/config). Never holds
 * config text or a resolved secret: the version, the hash and the reason.
 */
export interface ConfigAuditEntry {
  /** ISO 8601 */
  time: string;
  who: string;
  /** what the client's X-Nrdot-User header claimed (unverified) */
  claimed_by?: string;
  action: ConfigAuditAction;
  /** start, file, sighup, api, opamp, rollback, health */
  source: string;
  /** the config file, or where the bytes came from */
  config?: string;
  /** SHA-256 of the config's bytes, hex */
  hash?: string;
  /** the history version applied or rolled back to */
  version?: number;
  /** id of the key whose signature verified */
  keyId?: string;
  reason?: string;
  outcome:
    | 'ok'
    | 'refused'
    | 'failed'
    | 'rolled_back'
    | 'disabled'
    | 'unauthorized'
    | 'forbidden'
    | 'too_large'
    | 'invalid'
    | 'unavailable'
    | 'error';
  /** HTTP status answered, for API requests */
  status?: number;
}

/**
 * A decision the agent made itself (src/control/loop): a schedule started
 * or ended, the budget loop moved, an override expired. Manual changes are
 * the `profile.set` lines of the API.
 */
export interface ControlAuditEntry {
  /** ISO 8601 */
  time: string;
  who: 'nrdot';
  action: 'control.decision';
  reason: string;
  before: unknown;
  after: unknown;
  detail?: string;
  schedule?: string;
  outcome: 'ok';
}

export class AuditLog {
  private tail: Promise<void> = Promise.resolve();
  private dirReady = false;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the line is written (or the failure logged); never rejects. */
  append(entry: AuditEntry | ConfigAuditEntry | ControlAuditEntry): Promise<void> {
    const line = processSecrets.redact(`${JSON.stringify(entry)}\n`);
    this.tail = this.tail.then(async () => {
      try {
        if (!this.dirReady) {
          await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
          this.dirReady = true;
        }
        await fs.promises.appendFile(this.file, line, { mode: 0o600 });
      } catch (e) {
        this.logger.error({ err: e, file: this.file, entry }, 'could not write the audit log');
      }
    });
    return this.tail;
  }
}
