/**
 * The group catalog: the names processes are grouped under when they are
 * rolled up (a pod, a container, a systemd service or an executable name),
 * interned to small ids so per-row work is integer work, each with the
 * semantic-convention attributes its aggregate carries. Shared by the stage
 * that assigns groups and the stage that rolls them up, like the identity
 * table.
 */

export type GroupKind = 'pod' | 'container' | 'service' | 'executable' | 'template';

export interface GroupInfo {
  name: string;
  kind: GroupKind;
  /** resource attributes of the group's aggregate, besides nrdot.group */
  attrs: readonly (readonly [string, string])[];
}

export class GroupCatalog {
  private readonly byName = new Map<string, number>();
  private readonly infos: (GroupInfo | undefined)[] = [];
  private readonly free: number[] = [];

  /** The id of `info.name`, adding it when new. */
  intern(info: GroupInfo): number {
    let id = this.byName.get(info.name);
    if (id !== undefined) return id;
    id = this.free.pop() ?? this.infos.length;
    this.infos[id] = info;
    this.byName.set(info.name, id);
    return id;
  }

  get(id: number): GroupInfo {
    return this.infos[id]!;
  }

  /** Ids below this bound may be in use. */
  get bound(): number {
    return this.infos.length;
  }

  get size(): number {
    return this.byName.size;
  }

  /** Forget groups whose ids are not in `live` (no process names them any more). */
  retain(live: Uint8Array): void {
    for (let id = 0; id < this.infos.length; id++) {
      const info = this.infos[id];
      if (!info || live[id] === 1) continue;
      this.byName.delete(info.name);
      this.infos[id] = undefined;
      this.free.push(id);
    }
  }
}
