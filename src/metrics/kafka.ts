import { Counter, Gauge, type Registry } from 'prom-client';
import { REJECT_REASONS } from '../stream/decode.js';

/**
 * The Kafka source's metrics, registered on the injected registry. Labels are bounded: topics
 * and partitions come from the configuration and the cluster, reasons from the decoder's
 * fixed set.
 */
export interface KafkaMetrics {
  /** High watermark minus the group's committed offset, per assigned partition. */
  lag(topic: string, partition: number, records: number): void;
  /** Forgets a partition's lag (unassigned). */
  forgetLag(topic: string, partition: number): void;
  deadLettered(reason: string, count: number): void;
  replayed(count: number): void;
  restarted(): void;
  checkpointWritten(atSeconds: number): void;
}

/** `connected` is read at scrape time. */
export function createKafkaMetrics(registry: Registry, connected: () => boolean): KafkaMetrics {
  const lag = new Gauge({
    name: 'klaxon_kafka_consumer_lag',
    help: 'Records behind: the partition high watermark minus the consumer group committed offset.',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  });
  new Gauge({
    name: 'klaxon_kafka_connected',
    help: 'Whether the Kafka consumer is in its group and hearing from the brokers (1) or not (0).',
    registers: [registry],
    collect() {
      this.set(connected() ? 1 : 0);
    },
  });
  const deadLetters = new Counter({
    name: 'klaxon_kafka_dead_letters_total',
    help: 'Rejected records written to the dead-letter topic, by reason (one per stream a record failed).',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Every reason from 0: a rate over a series that appears only with the first dead letter
  // misses that letter, and a dashboard panel would be empty until then.
  for (const reason of REJECT_REASONS) deadLetters.inc({ reason }, 0);
  const replayed = new Counter({
    name: 'klaxon_kafka_replayed_records_total',
    help: 'Records re-read after a restart to rebuild the windows (not counted in klaxon_records_total).',
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'klaxon_kafka_consumer_restarts_total',
    help: 'Times the Kafka consumer was restarted after a crash or a broker outage.',
    registers: [registry],
  });
  const checkpoint = new Gauge({
    name: 'klaxon_kafka_last_checkpoint_timestamp_seconds',
    help: 'Unix time of the last checkpoint (references and replay offsets) written to the checkpoint topic.',
    registers: [registry],
  });
  return {
    lag: (topic, partition, records) => lag.set({ topic, partition: String(partition) }, Math.max(0, records)),
    forgetLag: (topic, partition) => lag.remove({ topic, partition: String(partition) }),
    deadLettered: (reason, count) => deadLetters.inc({ reason }, count),
    replayed: (count) => replayed.inc(count),
    restarted: () => restarts.inc(),
    checkpointWritten: (at) => checkpoint.set(at),
  };
}
