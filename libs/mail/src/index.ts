export { normalizeAddresses, matchesAddress, stripPlusTag, type MailAddress } from './addresses.js';
export { MailParseError, type MailParseErrorCode } from './errors.js';
export {
  parseMail,
  type AttachmentInfo,
  type AttachmentSink,
  type ParsedAttachment,
  type ParsedMail,
  type ParseMailOptions,
  type ParseMailResult,
} from './parse-mail.js';
export { parseSimple } from './parse-simple.js';
export {
  detectAutomated,
  type AutomatedInput,
  type AutomatedKind,
  type AutomatedVerdict,
  type DetectAutomatedOptions,
} from './detect-automated.js';
export { extractReply, type ExtractedReply } from './reply-extract.js';
export {
  signReplyToken,
  verifyReplyToken,
  replyAddress,
  findReplyToken,
  type VerifyReplyTokenResult,
} from './reply-token.js';
export { subjectTag, parseSubjectTag, normalizeSubject, threadableSubject } from './subject-tag.js';
export { threadHints, type ThreadHints } from './thread-hints.js';
export {
  buildThreads,
  renderThreads,
  type ThreadableMessage,
  type ThreadNode,
  type ThreadingAlgorithm,
} from './jwz-threading.js';
export {
  resolveThread,
  type ThreadLookup,
  type ThreadResolution,
  type ThreadRule,
  type TicketParticipants,
} from './resolve-thread.js';
export {
  parseStatusCommand,
  authorizeStatusCommand,
  TICKET_STATUSES,
  type TicketStatus,
  type StatusCommand,
  type AuthorizeStatusInput,
  type AuthorizeStatusResult,
} from './status-command.js';
export { inspectMail, type MailInspection } from './inspect-mail.js';
export { runMailCli, type MailCliIo } from './mail-cli.js';
export {
  composeMail,
  parseMailTemplate,
  renderTemplate,
  templatePlaceholders,
  escapeHtml,
  singleLine,
  ourMessageId,
  ComposeMailError,
  type ComposeMailInput,
  type ComposedMail,
  type MailTemplate,
  type TemplateValues,
} from './compose-mail.js';
