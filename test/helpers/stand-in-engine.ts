/**
 * A stand-in for the engine the lead is rebuilding: `build` makes a
 * candidate that, once committed, is what the stand-in "runs". Only the part
 * of a reload that needs the engine is stood in for; loading, signatures,
 * history and audit stay real (src/control/config/lifecycle.ts).
 */
import type { LoadedConfig } from '../../src/config/load.js';
import type { Candidate } from '../../src/control/config/lifecycle.js';

export class StandInEngine {
  running: LoadedConfig;
  builds: string[] = [];
  failBuild: ((next: LoadedConfig) => string | undefined) | undefined;

  constructor(start: LoadedConfig) {
    this.running = start;
  }

  build = async (next: LoadedConfig): Promise<Candidate> => {
    this.builds.push(next.config.profile);
    const why = this.failBuild?.(next);
    if (why) throw new Error(why);
    return {
      commit: async () => {
        this.running = next;
      },
      discard: async () => {},
    };
  };
}
