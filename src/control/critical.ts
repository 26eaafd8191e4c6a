/**
 * Pre-classification at admission: is a received process critical?
 *
 * The engine classifies received processes later, per host, with the full
 * picture (parents, anomaly scores). The receiver has to choose what to
 * keep before that, from the request alone, so it runs the same classifier
 * (`classification.protected` and `classification.rules`, RE2) on the
 * resource's `process.executable.name`, `process.executable.path` and
 * command line, and calls critical what the rules call critical. The
 * approximation, on the side of keeping:
 *
 * - a worker of a pre-fork pool (parent with the same name) is demoted one
 *   tier by the engine; here it counts as critical, so it is admitted;
 * - the kernel-thread rule is not applied (received data does not say
 *   which processes are kernel threads; none of the default critical rules
 *   names one);
 * - a non-critical process that the engine would have promoted as an
 *   anomaly is refused with the rest while memory is short.
 *
 * Answers are cached by the three strings (a bounded map, cleared when
 * full), so a steady sender costs one map lookup per resource.
 */
import type { Config } from '../config/schema.js';
import { Classifier } from '../stages/classify/classifier.js';
import { TIER_CRITICAL } from '../telemetry/names.js';

export type CriticalTest = (name: string, exe: string, cmdline: string) => boolean;

/** Most cached answers kept before the cache starts over. */
export const CRITICAL_CACHE_ENTRIES = 20_000;

export function criticalTest(classification: Config['classification']): CriticalTest {
  const classifier = new Classifier(classification);
  const cache = new Map<string, boolean>();
  return (name, exe, cmdline) => {
    const key = `${name}\0${exe}\0${cmdline}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const critical = classifier.classify(name, exe, cmdline, false).tier === TIER_CRITICAL;
    if (cache.size >= CRITICAL_CACHE_ENTRIES) cache.clear();
    cache.set(key, critical);
    return critical;
  };
}
