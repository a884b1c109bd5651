export { start, handleRecord } from './start.js';
export { TicketStoreConfig } from './config.js';
export { ticketIdOfSubmission } from './handle-submission.js';
