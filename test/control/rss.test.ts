import { describe, expect, it } from 'vitest';
import { parseStatmResidentPages, readRssBytes } from '../../src/control/index.js';
import { procStatus } from '../../src/harness/agent-process.js';

function statusVmRss(): number {
  const st = procStatus('self');
  if (!st) throw new Error('no VmRSS in /proc/self/status');
  return st.rssBytes;
}

describe('readRssBytes', () => {
  it('matches the kernel VmRSS of this process and follows memory that is touched', () => {
    const before = readRssBytes();
    const kernel = statusVmRss();
    expect(Math.abs(before - kernel)).toBeLessThan(8 * 1024 * 1024);
    expect(Math.abs(before - process.memoryUsage.rss())).toBeLessThan(8 * 1024 * 1024);

    const block = Buffer.alloc(64 * 1024 * 1024, 1); // filled, so resident
    const after = readRssBytes();
    expect(after - before).toBeGreaterThan(48 * 1024 * 1024);
    expect(block[block.length - 1]).toBe(1);
  });

  it('parses the resident field of statm', () => {
    expect(parseStatmResidentPages('286017 12345 3000 10 0 40000 0\n')).toBe(12345);
    expect(parseStatmResidentPages('')).toBeUndefined();
    expect(parseStatmResidentPages('garbage')).toBeUndefined();
  });
});
