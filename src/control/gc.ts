/**
 * Memory relief: a major garbage collection on request, for the governor to
 * call under pressure.
 *
 * A V8 process's resident size follows its peak heap: pages of objects that
 * died are given back only after a major collection, and V8 starts one when
 * its own heap limits say so, not when the process nears `limit_mib`. Node
 * offers no memory-pressure call, so this uses V8's `gc` extension, exposed
 * at run time (`--expose-gc` set through `v8.setFlagsFromString`, the
 * function taken from a fresh context). The collection is asked for as
 * `execution: 'async'`: V8 runs it from a task of its own, with no stack of
 * ours on top, and releases the freed pages within milliseconds; a
 * synchronous call from inside a request handler was measured to free far
 * less.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

type GcFn = (opts?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void | Promise<void>;

let cached: GcFn | null | undefined;

function gcFunction(): GcFn | null {
  if (cached !== undefined) return cached;
  const existing = (globalThis as { gc?: GcFn }).gc;
  if (typeof existing === 'function') {
    cached = existing;
    return cached;
  }
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    cached = typeof fn === 'function' ? (fn as GcFn) : null;
  } catch {
    cached = null;
  }
  return cached;
}

/**
 * A function that asks for a major collection (returns at once; V8 runs it
 * on its own task), or undefined where the runtime does not allow it.
 */
export function gcRelief(): (() => void) | undefined {
  const gc = gcFunction();
  if (!gc) return undefined;
  return () => {
    const r = gc({ type: 'major', execution: 'async' });
    if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch(() => undefined);
  };
}
