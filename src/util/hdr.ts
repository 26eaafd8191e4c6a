/**
 * HdrHistogram (hdr-histogram-js), its pure-JS 32-bit histogram only. The
 * package's main module also loads its WebAssembly build, pako and the
 * AssemblyScript loader at import: about 15 MiB of the agent's resident
 * memory for code nrdot never runs (measured: `require('hdr-histogram-js')`
 * +15.5 MiB RSS, `dist/Int32Histogram` alone +0.6 MiB, Node 20). This is
 * what `hdr.build({ useWebAssembly: false })` constructs, without the rest.
 */
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';

const require = createRequire(import.meta.url);

type HistogramClass = new (lowest: number, highest: number, digits: number) => Histogram & { autoResize: boolean };
const Int32Histogram = (require('hdr-histogram-js/dist/Int32Histogram') as { default: HistogramClass }).default;

export type { Histogram };

/** As hdr.build(): 32-bit counts, resized as values grow past `highest`. */
export function buildHistogram(o: { lowest?: number; highest?: number; digits?: number } = {}): Histogram {
  const h = new Int32Histogram(o.lowest ?? 1, o.highest ?? 2, o.digits ?? 3);
  h.autoResize = true;
  return h;
}
