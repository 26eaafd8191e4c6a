import { describe, expect, it } from 'vitest';
import { NrdotError } from '../../src/core/errors.js';
import { isLoopback, parseListen } from '../../src/server/listen.js';

describe('parseListen', () => {
  it('reads HOST:PORT, bracketed IPv6 and off', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    expect(parseListen('off')).toBeNull();
  });

  it('names the flag and the value it cannot read', () => {
    for (const bad of ['9464', ':9464', '::1:9464', 'host:99999', 'host:-1', 'host:port', '']) {
      expect(() => parseListen(bad)).toThrow(NrdotError);
      expect(() => parseListen(bad)).toThrow(`--listen expects HOST:PORT`);
      expect(() => parseListen(bad)).toThrow(`got '${bad}'`);
    }
  });
});

describe('isLoopback', () => {
  it('knows loopback from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1'])
      expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.5', 'example.com']) expect(isLoopback(h)).toBe(false);
  });
});
