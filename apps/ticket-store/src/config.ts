import {
  DatabaseConfig,
  KafkaConfig,
  LoggingConfig,
  Type,
  metricsPort,
  APP_PORTS,
  type Static,
} from '@mailroom/config';

export const TicketStoreConfig = Type.Composite([
  LoggingConfig,
  KafkaConfig,
  DatabaseConfig,
  metricsPort(APP_PORTS['ticket-store']),
  Type.Object({
    TICKET_STORE_GROUP_ID: Type.String({ minLength: 1, default: 'ticket-store' }),
    /** Partitions handled in parallel by one instance. */
    TICKET_STORE_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 3 }),
    /** Where a new consumer group starts: the oldest record (never miss one) or the newest. */
    TICKET_STORE_FROM_BEGINNING: Type.Boolean({ default: true }),
  }),
]);
export type TicketStoreConfig = Static<typeof TicketStoreConfig>;
