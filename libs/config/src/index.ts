export { Type, type Static, type TObject } from '@sinclair/typebox';
export { loadConfig, ConfigError } from './load-config.js';
export {
  LoggingConfig,
  KafkaConfig,
  DatabaseConfig,
  SmtpConfig,
  ImapConfig,
  metricsPort,
  APP_PORTS,
} from './fragments.js';
