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
  }),
]);
export type TicketStoreConfig = Static<typeof TicketStoreConfig>;
