import { describe, expect, it } from 'vitest';
import {
  parseCmdline,
  parseHostStat,
  parseIo,
  parseMemTotal,
  parseStat,
  parseStatus,
  parseUptime,
} from '../../src/sources/procfs/parse.js';

const tail = '0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0';
function statLine(comm: string): string {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal start vsize rss
  return `4242 (${comm}) S 1 4242 4242 0 -1 4194560 1500 0 12 0 250 130 0 0 20 0 7 0 98765 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 33 0 0 ${tail}\n`;
}

describe('parseStat', () => {
  it.each(['bash', '(sd-pam)', 'tmux: server', 'weird) (name', 'a)b', ') ) )', ''])('parses comm %j', (comm) => {
    const s = parseStat(statLine(comm))!;
    expect(s).not.toBeNull();
    expect(s.comm).toBe(comm);
    expect(s.pid).toBe(4242);
    expect(s.state).toBe('S'.charCodeAt(0));
    expect(s.ppid).toBe(1);
    expect(s.minflt).toBe(1500);
    expect(s.majflt).toBe(12);
    expect(s.utime).toBe(250);
    expect(s.stime).toBe(130);
    expect(s.threads).toBe(7);
    expect(s.starttime).toBe(98765);
    expect(s.vsize).toBe(123456789);
    expect(s.rss).toBe(2048);
    expect(s.blkioTicks).toBe(33);
  });

  it('rejects truncated and garbage lines', () => {
    expect(parseStat('')).toBeNull();
    expect(parseStat('garbage')).toBeNull();
    expect(parseStat('12 (x) S 1 2 3')).toBeNull();
    expect(parseStat(statLine('x').slice(0, 60))).toBeNull();
    expect(parseStat(statLine('x').replace(' 250 ', ' 2x0 '))).toBeNull();
    expect(parseStat('abc (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 1')).toBeNull();
  });

  it('accepts a line without the delay-accounting field (old kernels)', () => {
    const short = '7 (old) R 1 7 7 0 -1 0 10 0 2 0 5 6 0 0 20 0 1 0 500 4096 3';
    const s = parseStat(short)!;
    expect(s.rss).toBe(3);
    expect(s.blkioTicks).toBe(0);
  });
});

describe('other procfs files', () => {
  it('status: uid and context switches', () => {
    const t =
      'Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nvoluntary_ctxt_switches:\t321\nnonvoluntary_ctxt_switches:\t12\n';
    expect(parseStatus(t)).toEqual({ uid: 1000, volCtx: 321, involCtx: 12 });
    expect(parseStatus('Name:\tx\n')).toEqual({ uid: -1, volCtx: -1, involCtx: -1 });
  });

  it('io: read/write bytes', () => {
    const t =
      'rchar: 100\nwchar: 200\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n';
    expect(parseIo(t)).toEqual({ readBytes: 4096, writeBytes: 8192 });
  });

  it('cmdline: NUL separated, trailing NUL dropped, empty for kernel threads', () => {
    expect(parseCmdline('nginx: worker process\0')).toBe('nginx: worker process');
    expect(parseCmdline('/usr/bin/python3\0-m\0http.server\0\0')).toBe('/usr/bin/python3 -m http.server');
    expect(parseCmdline('')).toBe('');
  });

  it('host files', () => {
    expect(parseUptime('12345.67 23456.78\n')).toBe(12345.67);
    expect(Number.isNaN(parseUptime('nope'))).toBe(true);
    expect(parseHostStat('cpu  1 2 3\ncpu0 1 2\ncpu1 3 4\nintr 0\nbtime 1700000000\n')).toEqual({
      btime: 1700000000,
      cpuCount: 2,
    });
    expect(parseHostStat('cpu 1 2\n')).toBeNull();
    expect(parseMemTotal('MemTotal:       16384 kB\nMemFree: 1 kB\n')).toBe(16384 * 1024);
  });
});
