import type { Registry } from 'prom-client';
import type { KafkaSourceConfig, StreamConfig } from '../../config/types.js';
import type { Clock } from '../../stream/clock.js';
import type { RejectReason } from '../../stream/decode.js';
import type { BatchSink, Source, SourceLogger } from '../source.js';
import type { RestorableState } from './checkpoint.js';
import { CLIENT_RETRY, createKafka } from './client.js';
import { KafkaSource, type KafkaTuning } from './consumer.js';
import { KafkaRouter, streamPartition } from './router.js';

/** What scale-out needs of the monitor beyond a checkpointed state: owning streams, and counting the router's rejects. */
export interface OwnedState extends RestorableState {
  acquire(streams: readonly string[]): Promise<void>;
  release(streams: readonly string[]): void;
  countRejected(source: string, reason: RejectReason): void;
}

export interface ScaleOutDeps {
  clock: Clock;
  logger?: SourceLogger;
  registry?: Registry;
  state: OwnedState;
  streams: readonly StreamConfig[];
  env?: NodeJS.ProcessEnv;
  tuning?: Partial<KafkaTuning>;
}

type ScaleOutConfig = KafkaSourceConfig & { scaleOut: { topic: string; partitions: number } };

/**
 * Several klaxon instances in one consumer group, each stream owned by one of them (see
 * docs/scaling.md). Stage 1, the router, re-keys every decoded vector by stream name into the
 * repartition topic; stage 2 is the ordinary Kafka source over that topic, whose partitions
 * (and so streams) the group spreads over the instances. The sink receives routed records:
 * feed them to `Monitor.ingestRouted`.
 */
export class ScaleOutSource implements Source {
  readonly name = 'kafka';
  private readonly router: KafkaRouter;
  private readonly consumer: KafkaSource;
  private routerStarted = false;

  constructor(config: ScaleOutConfig, deps: ScaleOutDeps) {
    const kafka = createKafka(config, { env: deps.env, logger: deps.logger, retry: CLIENT_RETRY });
    this.router = new KafkaRouter(config, {
      kafka,
      streams: deps.streams,
      countRejected: (reason) => deps.state.countRejected('kafka', reason),
      logger: deps.logger,
      maxWaitMs: deps.tuning?.maxWaitMs,
    });
    const streamsOf = (partitions: readonly number[]): string[] =>
      deps.streams.filter((s) => partitions.includes(streamPartition(s.name, this.router.partitionCount))).map((s) => s.name);
    const stage2: KafkaSourceConfig = {
      ...config,
      topics: [config.scaleOut.topic],
      // Everything in the internal topic is new to the group; rejects were dead-lettered by the router.
      fromBeginning: true,
      deadLetterTopic: undefined,
    };
    this.consumer = new KafkaSource(stage2, {
      clock: deps.clock,
      logger: deps.logger,
      registry: deps.registry,
      state: deps.state,
      env: deps.env,
      tuning: deps.tuning,
      upstream: { groupId: KafkaRouter.groupOf(config.groupId), topics: config.topics, fromBeginning: config.fromBeginning },
      owner: {
        acquire: (partitions) => deps.state.acquire(streamsOf(partitions)),
        release: (partitions) => deps.state.release(streamsOf(partitions)),
      },
    });
  }

  async start(sink: BatchSink): Promise<void> {
    await this.router.start();
    this.routerStarted = true;
    await this.consumer.start(sink);
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    if (this.routerStarted) await this.router.stop();
  }

  isConnected(): boolean {
    return this.consumer.isConnected();
  }
}
