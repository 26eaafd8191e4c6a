/**
 * The export queue: the first layer of the exporter chain
 * (queue → breaker → retry → timeout → OTLP/HTTP). The engine appends one
 * record (a gzip'd OTLP request) per lane batch; a drainer takes records in
 * drain order (critical, standard, sampled; oldest first in a lane), sends
 * them and acks or releases them. Delivery is at least once. Nothing is ever
 * dropped for its age; records leave the queue only when acked, evicted under
 * the byte cap or a full disk (sampled first, then standard, never critical),
 * or found corrupt.
 *
 * Disk layout (`createDiskQueue(dir)`): `dir/<lane>/<16-digit seq>.seg`
 * append-only segment files (format in `format.ts`) and `dir/<lane>/pos.json`,
 * the first un-acked seq, replaced atomically (tmp, fsync, rename) at most
 * every 200 ms or 256 acks and at shutdown. Acks may come out of order; the
 * position advances over the contiguous acked prefix, and a segment file is
 * deleted once every record in it is acked. Only a ~21-byte index entry per
 * record stays in memory; payloads are read back on take().
 *
 * What each fsync setting guarantees for a record whose append() resolved
 * with `accepted: true`:
 *
 * - `fsyncIntervalMs: 0`: the frame was fdatasync'ed before append()
 *   resolved, and new segment files, deletions and position renames fsync
 *   the lane directory. It survives SIGKILL, a kernel crash and a power loss
 *   (on a device that honours flushes).
 * - `fsyncIntervalMs: N > 0` (default 1000): the frame was written to the
 *   kernel (page cache) before append() resolved, and dirty segments and
 *   directories are fsynced every N ms (unref'd timer), at rotation and at
 *   shutdown. It survives SIGKILL or any crash of nrdot itself; a kernel
 *   crash or a power loss can lose the records of the last ~N ms (the torn
 *   tail is truncated and counted as `corrupt` at the next start).
 *
 * In both modes a record may be delivered again after a restart when its ack
 * was not yet saved in the position file (at most ~200 ms or 256 acks, and
 * acks that arrive out of order), or when the position file is unreadable.
 *
 * The memory queue (`createMemoryQueue`) has the same semantics, segments and
 * eviction, without persistence.
 */

import { silentLogger } from '../../core/log.js';
import { QueueCore } from './core.js';
import { DiskStore } from './disk-store.js';
import { nodeIo, type QueueIo } from './io.js';
import { MemoryStore } from './store.js';
import type { ExportQueue, QueueOptions } from './types.js';

export type { QueueIo } from './io.js';
export { nodeIo } from './io.js';
export {
  type AppendOutcome,
  DROP_REASONS,
  type DropTally,
  type ExportQueue,
  LANES,
  type Lane,
  type LaneStats,
  type QueueDropReason,
  type QueuedRecord,
  type QueueOptions,
  type QueueStats,
} from './types.js';

/** A persistent queue in `dir` (created when missing). Call start() before use. */
export function createDiskQueue(dir: string, opts: QueueOptions & { io?: QueueIo }): ExportQueue {
  const store = new DiskStore({
    dir,
    io: opts.io ?? nodeIo,
    syncEachWrite: opts.fsyncIntervalMs === 0,
    logger: opts.logger ?? silentLogger,
    weigh: opts.weigh,
  });
  return new QueueCore(store, opts);
}

/** The same queue with nothing on disk (used when no --queue-dir is given). */
export function createMemoryQueue(opts: QueueOptions): ExportQueue {
  return new QueueCore(new MemoryStore(), opts);
}
