/**
 * Service discovery: find what runs on the host and render the Collector
 * config for it.
 *
 *   discover(opts) → DiscoveryResult                one run (root, procRoot, templateDir)
 *   new Rediscoverer({ intervalMs, discover, clock, logger })
 *       .start() / .shutdown() / .latest() / .runOnce()
 *       events: appeared, disappeared, changed, result, failed
 *   renderCollector(result, templates, settings) → { yaml, config, rendered, skipped }
 *   diffConfigs(before, after) / formatChanges(changes)
 *   loadTemplates({ embeddedDir?, userDir? }, problems)
 *   discoverySettings(config.discovery, baseDir)
 *   servicePids(result, minConfidence) / serviceResourceAttributes(svc) / discoveryStatus(result)
 */
export {
  type CollectorRender,
  type CollectorSettings,
  DEFAULT_COLLECTOR_SETTINGS,
  renderCollector,
} from './collector.js';
export { type DiscoverySettings, discoverySettings } from './config.js';
export { type Change, diffConfigs, formatChanges } from './diff.js';
export { type DiscoverOptions, discover } from './discover.js';
export { Problems } from './host.js';
export { Rediscoverer, type RediscovererEvents, type RediscovererOptions } from './rediscover.js';
export { embeddedTemplateDir, loadTemplates, parseTemplate } from './templates/load.js';
export type { ServiceTemplate } from './templates/types.js';
export type {
  DiscoveredService,
  DiscoveryResult,
  DiscoveryStats,
  Endpoint,
  Evidence,
  Problem,
  UnmatchedListener,
} from './types.js';
export {
  type AttributeValue,
  type DiscoveryStatus,
  discoveryStatus,
  servicePids,
  serviceResourceAttributes,
} from './views.js';
