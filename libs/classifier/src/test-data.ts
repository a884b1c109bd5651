import { fileURLToPath } from 'node:url';

/** The shared third-party data next to the checkout (see shared/data/README.md). */
export const SHARED_DATA = fileURLToPath(new URL('../../../../shared/data', import.meta.url));
export const TICKETS_TRAIN = `${SHARED_DATA}/tickets/support-tickets-en.train.csv`;
export const BANKING_TRAIN = `${SHARED_DATA}/intents/banking77/train.csv`;
