/** The instrumentation scope of everything nrdot itself produces. */
import { VERSION } from '../../util/version.js';

export const SCOPE = { name: 'nrdot', version: VERSION };
