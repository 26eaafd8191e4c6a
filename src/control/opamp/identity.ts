/**
 * Who this agent is to an OpAMP server: a stable instance_uid (a UUIDv7 made
 * once and kept in the state dir, or the one a server assigns), its
 * description (identifying: service.name, service.version,
 * service.instance.id, host.name; non-identifying: os.type, host.arch,
 * nrdot.ring) and its rollout ring.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Logger, silentLogger } from '../../core/log.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { makeDirsSync } from '../../util/fs.js';
import { packageRoot } from '../../util/package.js';
import type { OpampConfig } from './config.js';

export const INSTANCE_UID_FILE = 'opamp-instance-uid';

/** A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version 7, variant 10, 74 random bits. */
export function uuidv7(nowMs: number = Date.now(), random: Buffer = randomBytes(10)): Uint8Array {
  const b = new Uint8Array(16);
  let t = BigInt(nowMs);
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  b.set(random.subarray(0, 10), 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  return b;
}

export function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function parseUuid(s: string): Uint8Array | undefined {
  const m = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i.exec(s.trim());
  return m ? new Uint8Array(Buffer.from(m.slice(1).join(''), 'hex')) : undefined;
}

/**
 * The instance uid kept under `stateDir` (made on first use). Without a state
 * dir, a fresh one per run (the server then sees a new agent on each start).
 */
export function loadInstanceUid(stateDir: string | undefined, logger: Logger = silentLogger): Uint8Array {
  if (!stateDir) {
    logger.warn('opamp: no state dir, so the instance_uid changes on every start (set state_dir or --state-dir)');
    return uuidv7();
  }
  const file = path.join(stateDir, INSTANCE_UID_FILE);
  try {
    const uid = parseUuid(fs.readFileSync(file, 'utf8'));
    if (uid) return uid;
    logger.warn({ file }, 'opamp: the kept instance_uid is not a UUID; making a new one');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn({ file, err: (e as Error).message }, 'opamp: cannot read the kept instance_uid; making a new one');
    }
  }
  const uid = uuidv7();
  saveInstanceUid(stateDir, uid, logger);
  return uid;
}

export function saveInstanceUid(stateDir: string | undefined, uid: Uint8Array, logger: Logger = silentLogger): void {
  if (!stateDir) return;
  try {
    makeDirsSync(stateDir);
    writeFileAtomic(path.join(stateDir, INSTANCE_UID_FILE), `${formatUuid(uid)}\n`);
  } catch (e) {
    logger.warn({ stateDir, err: (e as Error).message }, 'opamp: cannot keep the instance_uid in the state dir');
  }
}

/** /etc/machine-id (or D-Bus's copy), else the host name: stable across restarts and reinstalls of nrdot. */
export function hostId(read: (f: string) => string = (f) => fs.readFileSync(f, 'utf8')): string {
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = read(f).trim();
      if (id) return id;
    } catch {
      // next
    }
  }
  return os.hostname();
}

/**
 * The ring a host falls in, by weighted rendezvous hashing: each ring scores
 * weight / -ln(u), u from SHA-256 of (ring, host id) in (0, 1); the highest
 * score wins. The same host id always lands in the same ring, the share of
 * hosts per ring follows the weights, and adding a ring (or raising its
 * weight) only moves hosts INTO that ring: no host jumps between the others.
 */
export function ringFor(id: string, rings: ReadonlyArray<{ name: string; weight: number }>): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const r of rings) {
    const h = createHash('sha256').update(r.name).update('\0').update(id).digest();
    const u = (Number(h.readBigUInt64BE(0) >> 11n) + 0.5) / 2 ** 53;
    const score = r.weight / -Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = r.name;
    }
  }
  return best;
}

/** `opamp.ring` when set, else the ring of this host's id in `opamp.rings`, else none. */
export function resolveRing(cfg: Pick<OpampConfig, 'ring' | 'rings'>, id: string = hostId()): string | undefined {
  return cfg.ring || ringFor(id, cfg.rings);
}

export function nrdotVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

export interface Description {
  identifying: Record<string, string>;
  nonIdentifying: Record<string, string>;
}

export function describeAgent(uid: Uint8Array, ring: string | undefined): Description {
  const arch = os.arch();
  return {
    identifying: {
      'service.name': 'nrdot',
      'service.version': nrdotVersion(),
      'service.instance.id': formatUuid(uid),
      'host.name': os.hostname(),
    },
    nonIdentifying: {
      'os.type': os.platform(),
      'host.arch': arch === 'x64' ? 'amd64' : arch,
      ...(ring ? { 'nrdot.ring': ring } : {}),
    },
  };
}
