import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Config } from './config/types.js';
import { createMetrics } from './metrics/metrics.js';
import { startHttpServer, type HttpServer } from './server/http.js';
import { createSource } from './sources/index.js';
import type { BatchSink, Source } from './sources/source.js';
import { systemClock, type Clock } from './stream/clock.js';
import { Monitor } from './stream/monitor.js';
import type { MonitorView } from './stream/view.js';

export interface AppOptions {
  config: Config;
  /** Metrics go here; default a fresh registry (never prom-client's global one). */
  registry?: Registry;
  /** Default: pino at the configured level, to stdout. */
  logger?: Logger;
  /** Time for record stamps, windows and schedules; default the system clock. */
  clock?: Clock;
  /** Replaces the configured source (tests, embedding). */
  source?: Source;
  /** Where the operator API token is read from (`http.apiTokenEnv`); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface App {
  monitor: MonitorView;
  /** The bound port (useful with `http.port: 0`). */
  httpPort: number;
  /** Stops the source (finishing its in-flight batch), the scheduler, then the HTTP server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Wires klaxon together: source → monitor (decode, windows, fits, divergences, alerts) →
 * metrics and HTTP. Resolves once the server listens and ingestion has started; if any part
 * fails to start, the parts already started are stopped before the error is rethrown.
 */
export async function startApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const logger = options.logger ?? pino({ level: config.log.level, base: { service: 'klaxon' } });
  const registry = options.registry ?? new Registry();
  const clock = options.clock ?? systemClock;
  // Scale-out (opt-in): this instance owns only the streams the consumer group gives it.
  const scaleOut = options.source === undefined && config.source.type === 'kafka' && config.source.scaleOut !== undefined;
  const monitor = new Monitor({
    ...(scaleOut ? { ownership: true } : {}),
    streams: config.streams,
    clock,
    logger: logger.child({ component: 'monitor' }),
    stateDir: config.stateDir,
    sourceConnected: (): boolean => source.isConnected(),
  });
  // The monitor is the source's state: a replayable source (Kafka) checkpoints and restores it.
  const source: Source =
    options.source ??
    createSource(config.source, {
      clock,
      logger: logger.child({ component: 'source' }),
      registry,
      state: monitor,
      ...(scaleOut ? { owned: monitor, streams: config.streams } : {}),
    });
  const sink: BatchSink = scaleOut
    ? async (batch, ingestOptions) => monitor.ingestRouted(batch, ingestOptions)
    : async (batch, ingestOptions) => monitor.ingest(source.name, batch, ingestOptions);

  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    // Reverse order of start: source first, so no batch arrives at a stopped monitor.
    for (const cleanup of cleanups.reverse().splice(0)) {
      try {
        await cleanup();
      } catch (err) {
        logger.error({ err }, 'shutdown step failed');
      }
    }
  };

  let server: HttpServer;
  try {
    await monitor.init();
    monitor.observe(createMetrics(registry, monitor));
    server = await startHttpServer({
      view: monitor,
      registry,
      host: config.http.host,
      port: config.http.port,
      logger: logger.child({ component: 'http' }),
      control: monitor,
      apiToken: (options.env ?? process.env)[config.http.apiTokenEnv],
      apiTokenEnv: config.http.apiTokenEnv,
      tls: config.http.tls,
    });
    cleanups.push(() => server.close());
    monitor.start();
    cleanups.push(() => monitor.stop());
    await source.start(sink);
    cleanups.push(() => source.stop());
  } catch (err) {
    await stopAll();
    throw err;
  }

  logger.info(
    {
      source: config.source.type,
      streams: config.streams.map((s) => s.name),
      http: `${config.http.host}:${server.port}`,
      protocol: server.protocol,
    },
    'klaxon started',
  );

  let stopping: Promise<void> | undefined;
  return {
    monitor,
    httpPort: server.port,
    stop: () =>
      (stopping ??= (async () => {
        logger.info({}, 'klaxon stopping');
        await stopAll();
        logger.info({}, 'klaxon stopped');
      })()),
  };
}
