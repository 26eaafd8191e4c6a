/**
 * Logins: an ssh login (sshd [priv] -> sshd user@pts -> login shell, with the
 * user's systemd and (sd-pam) when it is the user's first), and the terminal
 * numbers every shell on a pts gets. One helper serves the `mixed` host and
 * the shapes; where they differ (the user draw, the pts wrap) it takes a
 * parameter, so each keeps its bytes.
 */
import type { Builder, StartKind } from './builder.js';
import { UID, USERS } from './catalog.js';
import { userCg } from './cgroup.js';
import type { Ctx } from './groups-system.js';

/** pts numbers the shapes hand out before wrapping (the `mixed` host wraps at 256). */
export const PTS_WRAP = 4096;

/**
 * The next pseudo-terminal: its number (wrapping at `wrap`) and its tty_nr
 * as /proc/<pid>/stat prints it (major 136; minor's low byte in bits 0-7,
 * the rest from bit 20).
 */
export function nextPts(ctx: Ctx, wrap: number): { pts: number; tty: number } {
  const pts = ctx.nextPts++ % wrap;
  const tty = 34816 + (pts % 256) + (pts >= 256 ? (pts >> 8) * 1048576 : 0);
  return { pts, tty };
}

export interface LoginOptions {
  /** the user's systemd and (sd-pam) too (the user's first login) */
  manager: boolean;
  /** a zsh login shell (default bash) */
  zsh?: boolean;
  /** pts numbers wrap here (default PTS_WRAP) */
  ptsWrap?: number;
}

/**
 * An ssh login: sshd [priv] -> sshd user@pts -> login shell, in its own
 * session scope; with `manager`, the user's systemd and (sd-pam) too.
 * Returns the shell's index (-1 when the host is full). Draws no random
 * numbers of its own (only the builder's, per process added).
 */
export function addLogin(
  b: Builder,
  ctx: Ctx,
  u: { name: string; uid: number },
  { manager, zsh = false, ptsWrap = PTS_WRAP }: LoginOptions,
): number {
  const ids = [u.uid, u.uid] as const;
  const { pts, tty } = nextPts(ctx, ptsWrap);
  if (manager) {
    const sd = b.add(ctx.init, {
      argv: ['/lib/systemd/systemd', '--user'],
      exe: '/usr/lib/systemd/systemd',
      ids,
      category: 'session',
      role: 'systemd-user',
      cpu: 0.0002,
      rssMb: 10,
      fds: [15, 40],
      start: 'any',
      leader: 2,
      cg: userCg(u.uid, `user@${u.uid}.service`),
    });
    if (sd >= 0)
      b.add(sd, {
        argv: ['(sd-pam)'],
        exe: '/usr/lib/systemd/systemd',
        comm: '(sd-pam)',
        ids,
        category: 'session',
        role: 'sd-pam',
        cpu: 0.000001,
        rssMb: 3,
        fds: [3, 5],
        start: 'child',
      });
  }
  // Without sshd the host is full (the base system adds it first), and the add below fails either way.
  const sshd = ctx.sshd >= 0 ? ctx.sshd : ctx.init;
  const priv = b.add(sshd, {
    argv: [`sshd: ${u.name} [priv]`],
    exe: '/usr/sbin/sshd',
    comm: 'sshd',
    ids: UID.root,
    category: 'session',
    role: 'sshd-session',
    cpu: 0.00005,
    rssMb: 10,
    fds: [6, 9],
    start: 'any',
    leader: 2,
    cg: userCg(u.uid, `session-${ctx.nextSession++}.scope`),
  });
  if (priv < 0) return -1;
  const net = b.add(priv, {
    argv: [`sshd: ${u.name}@pts/${pts}`],
    exe: '/usr/sbin/sshd',
    comm: 'sshd',
    ids,
    category: 'session',
    role: 'sshd-session',
    cpu: 0.0003,
    rssMb: 7,
    fds: [8, 12],
    start: 'child',
    wake: 3,
  });
  if (net < 0) return -1;
  return addShell(b, ctx, net, u.uid, tty, { role: 'login-shell', start: 'child', zsh });
}

/**
 * An interactive shell on a pts (a login's, or one in tmux or screen),
 * registered in `ctx.shells` for the commands that run under shells.
 * Returns its index (-1 when the host is full).
 */
export function addShell(
  b: Builder,
  ctx: Ctx,
  parent: number,
  uid: number,
  tty: number,
  o: { role: string; start: StartKind; zsh?: boolean; cpu?: number },
): number {
  const zsh = o.zsh === true;
  const idx = b.add(parent, {
    argv: [zsh ? '-zsh' : '-bash'],
    exe: zsh ? '/usr/bin/zsh' : '/usr/bin/bash',
    comm: zsh ? 'zsh' : 'bash',
    ids: [uid, uid],
    category: 'shell',
    role: o.role,
    cpu: o.cpu ?? 0.0001,
    rssMb: zsh ? 7 : 5,
    fds: [4, 4],
    fdKind: 'tty',
    start: o.start,
    leader: 2,
    tty,
  });
  if (idx >= 0) ctx.shells.push({ idx, uid, gid: uid, tty });
  return idx;
}

/**
 * The `mixed` host's login: a user drawn from the six named ones (after the
 * caller's draw of `withUserManager`, as the original generator did), pts
 * numbers wrapping at 256, always bash.
 */
export function addSshSession(b: Builder, ctx: Ctx, withUserManager: boolean): void {
  addLogin(b, ctx, b.rng.pick(USERS), { manager: withUserManager, ptsWrap: 256 });
}
