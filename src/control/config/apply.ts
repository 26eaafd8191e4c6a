/**
 * The one entry point for changing a running agent's config, whoever asks
 * (file watch, SIGHUP, PUT /api/config, `nrdot rollback`, OpAMP). The agent
 * implements it once the engine can build a pipeline beside the running one
 * (docs/CONFIG-LIFECYCLE.md); every caller goes through the same checked
 * apply: verify, validate, build, swap, health-check, record, audit.
 */
import type { ConfigSource } from './history/store.js';
import type { CarriedSignature } from './signed.js';

export interface ConfigApplyRequest {
  /** the config file's exact bytes (references unexpanded) */
  bytes: Buffer;
  /** a signature carried with the bytes (API header field, OpAMP .sig entry); a file's FILE.sig is read by the applier */
  signature?: CarriedSignature;
  source: ConfigSource;
  /** `alice@127.0.0.1`, `opamp:<endpoint>`, `root@localhost` */
  who: string;
  why?: string;
  /** the file the bytes came from (file watch, SIGHUP) */
  file?: string;
}

/** Roll back to a kept version, or to the one in effect at a time (ms since the epoch). */
export interface ConfigRollbackRequest {
  to: { version: number } | { timeMs: number };
  who: string;
  why?: string;
}

export type ConfigApplyResult =
  | {
      ok: true;
      /** applied: a new version is running; unchanged: the same bytes were already running */
      outcome: 'applied' | 'unchanged';
      hash: string;
      /** the history version recorded (absent without a state dir) */
      version?: number;
      keyId?: string;
      /** a rollback: the version whose bytes were restored */
      restoredFrom?: number;
    }
  | {
      ok: false;
      /**
       * refused: failed verification or validation, nothing changed;
       * failed: could not be built or swapped in, the running config stays;
       * rolled_back: was applied, failed its health check, the previous one is back
       */
      outcome: 'refused' | 'failed' | 'rolled_back';
      error: string;
      hash?: string;
      version?: number;
    };

/** What the agent provides; the control server and the OpAMP client call it. */
export interface ConfigApplier {
  applyConfig(req: ConfigApplyRequest): Promise<ConfigApplyResult>;
  rollbackConfig(req: ConfigRollbackRequest): Promise<ConfigApplyResult>;
}
