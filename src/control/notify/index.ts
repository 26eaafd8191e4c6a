/**
 * Control decisions as events, and webhooks that receive them.
 *
 *   decisionEvent(reason, before, after, nowMs, extra?)  ->  DecisionEvent
 *   new Notifier(config.control.notify, options?)        ->  post(event), stats(), flush(), close()
 */
export { type NotifyTarget, notifySchema, notifyTargetSchema } from './config.js';
export {
  type ControlSetting,
  DECISION_REASONS,
  type DecisionEvent,
  type DecisionReason,
  decisionEvent,
  EVENT_KIND,
  eventText,
  type WebhookBody,
  webhookBody,
} from './event.js';
export { Notifier, type NotifierOptions, type NotifyStats, type TargetStats } from './notifier.js';
