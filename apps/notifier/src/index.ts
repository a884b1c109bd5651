export { start, outboxComposer, sendLanes } from './start.js';
export { NotifierConfig, DEV_REPLY_TOKEN_SECRET } from './config.js';
export { handleNotifierEvents, type NotifierHandlerDeps } from './handle-events.js';
export { createSender, type Sender, type Delivery } from './sender.js';
export { rawMail } from './raw-mail.js';
export { decide, outboxId, type OutboxRow, type MailPlan, type OutboxPolicy } from './outbox.js';
export { createMailer, classifySmtpError, SmtpSendError, type Mailer } from './mailer.js';
export { addressSuppression, type SuppressionReason } from './suppression.js';
export {
  loadTemplates,
  statusTemplate,
  TEMPLATE_NAMES,
  TEMPLATE_VALUES,
  EXPECTED_RESPONSE,
  DEFAULT_TEMPLATES_DIR,
} from './templates.js';
