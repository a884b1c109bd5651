import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import {
  APP_PORTS,
  ConfigError,
  DatabaseConfig,
  KafkaConfig,
  loadConfig,
  SmtpConfig,
} from './index.js';

const Schema = Type.Composite([
  KafkaConfig,
  DatabaseConfig,
  Type.Object({ FLAG: Type.Boolean({ default: false }), NAME: Type.String() }),
]);

describe('loadConfig', () => {
  it('fills defaults and converts strings', () => {
    const c = loadConfig(Schema, { NAME: 'x', KAFKA_TOPIC_PARTITIONS: '12', FLAG: 'true' });
    expect(c.KAFKA_TOPIC_PARTITIONS).toBe(12);
    expect(c.FLAG).toBe(true);
    expect(c.KAFKA_BROKERS).toBe('127.0.0.1:19092');
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig(Schema, { NAME: 'x', KAFKA_BROKERS: '' });
    expect(c.KAFKA_BROKERS).toBe('127.0.0.1:19092');
  });

  it('lists every bad variable by name', () => {
    let error: unknown;
    try {
      loadConfig(Schema, { KAFKA_TOPIC_PARTITIONS: 'many', DATABASE_POOL_MAX: '0' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/KAFKA_TOPIC_PARTITIONS: .*\(got "many"\)/);
    expect(message).toMatch(/DATABASE_POOL_MAX: .*\(got "0"\)/);
    expect(message).toMatch(/NAME: .*\(got unset\)/);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
  });
});

describe('defaults agree with deploy/local/stack.env', () => {
  const stackEnv = readFileSync(
    new URL('../../../deploy/local/stack.env', import.meta.url),
    'utf8',
  );
  const value = (name: string) => {
    const m = stackEnv.match(new RegExp(`\\$\\{${name}:=([^}]+)\\}`));
    if (!m?.[1]) throw new Error(`${name} not in stack.env`);
    return m[1];
  };

  it('uses the stack ports', () => {
    const c = loadConfig(Type.Composite([KafkaConfig, SmtpConfig]), {});
    expect(c.KAFKA_BROKERS).toBe(`127.0.0.1:${value('KAFKA_PORT')}`);
    expect(String(c.SMTP_PORT)).toBe(value('GREENMAIL_SMTP_PORT'));
    expect(String(APP_PORTS['intake-api'])).toBe(value('INTAKE_API_PORT'));
    expect(String(APP_PORTS['ticket-store'])).toBe(value('TICKET_STORE_METRICS_PORT'));
    expect(String(APP_PORTS.analytics)).toBe(value('ANALYTICS_METRICS_PORT'));
  });
});
