import { Kafka, logLevel, type KafkaConfig, type LogEntry, type RetryOptions, type SASLOptions } from 'kafkajs';
import type { KafkaSourceConfig } from '../../config/types.js';
import type { SourceLogger } from '../source.js';
import { KafkaSourceError } from './errors.js';

/**
 * kafkajs' own retries, per request: quick at first, then up to 10 s apart, jittered (its
 * `factor`). After `retries` it gives up and the consumer crashes; `restartOnFailure` (see
 * consumer.ts) and our supervisor take over from there with longer, jittered waits.
 */
export const CLIENT_RETRY: RetryOptions = {
  initialRetryTime: 300,
  maxRetryTime: 10_000,
  factor: 0.2,
  multiplier: 2,
  retries: 8,
};

/** The connection settings as they may be logged: everything but the secret, which is only named. */
export function describeConnection(config: KafkaSourceConfig): Record<string, unknown> {
  return {
    brokers: config.brokers,
    clientId: config.clientId,
    groupId: config.groupId,
    topics: config.topics,
    ssl: config.ssl,
    sasl: config.sasl ? { mechanism: config.sasl.mechanism, username: config.sasl.username, passwordEnv: config.sasl.passwordEnv } : undefined,
    deadLetterTopic: config.deadLetterTopic,
    checkpointTopic: config.checkpointTopic,
  };
}

/**
 * SASL from the configuration, with the password read from the environment variable it
 * names, at the moment the client is built. Throws (not retriable) when that variable is unset.
 */
export function saslOptions(config: KafkaSourceConfig, env: NodeJS.ProcessEnv): SASLOptions | undefined {
  const sasl = config.sasl;
  if (sasl === undefined) return undefined;
  const password = env[sasl.passwordEnv];
  if (password === undefined || password === '') {
    throw new KafkaSourceError(
      `environment variable ${sasl.passwordEnv} is not set; export it with the SASL password for ${sasl.username}`,
      { retriable: false },
    );
  }
  const { username, mechanism } = sasl;
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}

interface Debug {
  debug(obj: object, msg?: string): void;
}

/**
 * kafkajs' log lines into ours. It logs every retry of an outage as an error; we handle
 * those (backoff, restart, `isConnected()`), so they are warnings here, and its info is debug.
 */
function logCreatorFor(logger: SourceLogger | undefined) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      if (logger === undefined) return;
      const { message, timestamp: _t, ...extra } = log;
      const obj = { kafkajs: namespace, ...extra };
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(obj, message);
      else if (level === logLevel.INFO) (logger as Partial<Debug>).debug?.(obj, message);
    };
}

/** A kafkajs client for the configuration: brokers, client id, TLS, SASL, retries, logging. */
export function createKafka(
  config: KafkaSourceConfig,
  options: { env?: NodeJS.ProcessEnv; logger?: SourceLogger; retry?: RetryOptions } = {},
): Kafka {
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: saslOptions(config, options.env ?? process.env),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: options.retry ?? CLIENT_RETRY,
    logLevel: logLevel.INFO,
    logCreator: logCreatorFor(options.logger),
  };
  return new Kafka(kafkaConfig);
}
