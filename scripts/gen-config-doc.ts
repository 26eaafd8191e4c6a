/**
 * Write docs/CONFIG.md from the config schema and the comments of
 * configs/default.yaml (`npm run gen:config-doc`). Fails, naming them, when
 * a key has no meaning in either place.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configReference } from '../src/config/reference.js';
import { packageRoot } from '../src/util/package.js';

const { markdown, missing } = configReference();
if (missing.length > 0) {
  process.stderr.write(
    `gen:config-doc: these keys have no comment in configs/default.yaml and no description in src/config/schema.ts:\n  ${missing.join('\n  ')}\n`,
  );
  process.exit(1);
}
const out = path.join(packageRoot(), 'docs', 'CONFIG.md');
fs.writeFileSync(out, markdown);
process.stdout.write(`wrote ${out}\n`);
