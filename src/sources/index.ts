import type { Registry } from 'prom-client';
import type { SourceConfig, StreamConfig } from '../config/types.js';
import type { Clock } from '../stream/clock.js';
import { DemoSource } from './demo.js';
import { FileSource } from './file.js';
import type { RestorableState } from './kafka/checkpoint.js';
import { KafkaSource } from './kafka/consumer.js';
import { ScaleOutSource, type OwnedState } from './kafka/scale-out.js';
import type { Source, SourceLogger } from './source.js';

export type { BatchSink, Source, SourceLogger, SourceRecord } from './source.js';
export { DemoGenerator, DemoSource, DEMO_TOPICS } from './demo.js';
export { FileSource } from './file.js';

/** The source a configuration names. */
export function createSource(
  config: SourceConfig,
  deps: { clock: Clock; logger?: SourceLogger; registry?: Registry; state?: RestorableState; owned?: OwnedState; streams?: readonly StreamConfig[] },
): Source {
  switch (config.type) {
    case 'demo':
      return new DemoSource(config, deps.clock, deps.logger);
    case 'file':
      return new FileSource(config, deps.clock, deps.logger);
    case 'kafka':
      if (config.scaleOut) {
        if (!deps.owned || !deps.streams) throw new Error('scale-out needs the monitor and the streams');
        return new ScaleOutSource({ ...config, scaleOut: config.scaleOut }, { ...deps, state: deps.owned, streams: deps.streams });
      }
      return new KafkaSource(config, deps);
  }
}
