/**
 * The audit log: one JSON line per profile-change request over HTTP, granted
 * or refused. Lines are appended in order; the token never reaches them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../core/log.js';

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

export class AuditLog {
  private tail: Promise<void> = Promise.resolve();
  private dirReady = false;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the line is written (or the failure logged); never rejects. */
  append(entry: AuditEntry): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
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
