/**
 * The group catalog: the names processes are grouped under when they are
 * rolled up (a pod, a container, a systemd service or an executable name),
 * interned to small ids so per-row work is integer work, each with the
 * semantic-convention attributes its aggregate carries. Shared by the stage
 * that assigns groups and the stage that rolls them up, like the identity
 * table. Groups no process names any more are forgotten (`usedMask`, `retain`).
 */

import { Interned } from './interned.js';

export type GroupKind = 'pod' | 'container' | 'service' | 'executable' | 'template';

export interface GroupInfo {
  name: string;
  kind: GroupKind;
  /** resource attributes of the group's aggregate, besides nrdot.group */
  attrs: readonly (readonly [string, string])[];
}

export class GroupCatalog extends Interned<GroupInfo> {
  /** The id of `info.name`, adding it when new. */
  intern(info: GroupInfo): number {
    return this.id(info.name, () => info);
  }
}
