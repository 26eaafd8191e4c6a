/**
 * What the control server needs from a running agent. The agent (the `run`
 * command) implements it; the server never reaches into the engine itself.
 */
import type { ConfigApplyRequest, ConfigApplyResult, ConfigRollbackRequest } from '../control/config/apply.js';
import type { HistorySnapshot } from '../sources/recording/history.js';
import type { MetricFamily } from './exposition.js';

export type { MetricFamily };

export interface AgentControl {
  /** JSON for /api/status: profile, tiers, counts, cost, coverage, queue, breaker, memory tier — opaque to the server */
  status(): unknown;
  profile(): { active: string; available: string[] };
  /**
   * Switch the profile. Throws NrdotError(ErrorCodes.UNKNOWN_PROFILE) for a
   * name that is not defined.
   */
  setProfile(
    name: string,
    by: { who: string; reason?: string; expiresInMs?: number },
  ): { before: string; after: string };
  /** true once the first cycle ran and the exporters started */
  ready(): boolean;
  /** optional pull mode: per-process metrics of exported processes, as families for the registry format */
  processFamilies?(): MetricFamily[];
  /**
   * PUT /api/config: the checked apply (src/control/config/apply.ts). Absent
   * until the agent can reload: the route answers 501.
   */
  applyConfig?(req: ConfigApplyRequest): Promise<ConfigApplyResult>;
  /** GET /api/history: the recent scans as a recording, or why there are none; absent → 404 */
  history?(): { snapshot?: HistorySnapshot; off?: string };
  /** PUT /api/config/rollback; absent → 501 */
  rollbackConfig?(req: ConfigRollbackRequest): Promise<ConfigApplyResult>;
}
