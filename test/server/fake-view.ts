import type { GmmJson } from '../../src/gmm/json.js';
import type { Evaluation, MonitorView, RejectCount, StreamView } from '../../src/stream/view.js';

/** A hand-built MonitorView for metrics, HTTP and page tests; mutate its fields between scrapes. */
export class FakeView implements MonitorView {
  ready = true;
  list: StreamView[];
  rejectCounts: RejectCount[];

  constructor(list: StreamView[] = [oneDimStream(), twoDimStream()], rejects?: RejectCount[]) {
    this.list = list;
    this.rejectCounts = rejects ?? [{ source: 'kafka', reason: 'invalid_json', count: 3 }];
  }

  streams(): StreamView[] {
    return this.list;
  }

  stream(name: string): StreamView | undefined {
    return this.list.find((s) => s.name === name);
  }

  rejects(): RejectCount[] {
    return this.rejectCounts;
  }

  isReady(): boolean {
    return this.ready;
  }
}

/** Evaluations end "now", so the page shows them as fresh. */
const T0 = Date.now();

/** n evaluations every 30 s, JS rising from `from` to `to` nats, KL about twice JS. */
export function history(n: number, from: number, to: number, endMs = T0): Evaluation[] {
  return Array.from({ length: n }, (_, i) => {
    const t = n === 1 ? 1 : i / (n - 1);
    const wiggle = 0.08 * Math.sin(i * 1.7) * (to - from + 0.01);
    const js = Math.max(0, from + (to - from) * t * t + wiggle);
    return {
      timestampMs: endMs - (n - 1 - i) * 30_000,
      divergences: {
        kl_ref_win: { value: 2.1 * js, stderr: 0.004 + 0.05 * js, method: 'quasi_monte_carlo' },
        kl_win_ref: { value: 1.9 * js, stderr: 0.004 + 0.05 * js, method: 'quasi_monte_carlo' },
        js: { value: js, stderr: 0.002 + 0.02 * js, method: 'quadrature' },
      },
    };
  });
}

interface StreamOptions {
  name: string;
  fields: string[];
  reference: GmmJson;
  window: GmmJson;
  history: Evaluation[];
  alert?: StreamView['alert'];
}

export function stream(o: StreamOptions): StreamView {
  const last = o.history[o.history.length - 1];
  return {
    name: o.name,
    topic: 'features',
    fields: o.fields,
    dimension: o.fields.length,
    phase: 'ready',
    ready: true,
    windowSamples: 5000,
    referenceSamples: 20000,
    recordsTotal: 123456,
    evaluationIntervalSeconds: 30,
    lastEvaluation: last,
    thresholds: {
      js: { warning: 0.05, critical: 0.12 },
      kl_ref_win: { warning: 0.2, critical: 0.5 },
    },
    alert: o.alert ?? { warning: false, critical: false },
    reference: o.reference,
    window: o.window,
    history: o.history,
  };
}

export function oneDimStream(name = 'latency_ms'): StreamView {
  return stream({
    name,
    fields: ['latency_ms'],
    reference: {
      weights: [0.7, 0.3],
      means: [[120], [300]],
      covariances: [[[900]], [[3600]]],
      covariance_type: 'full',
    },
    window: {
      weights: [0.5, 0.5],
      means: [[150], [330]],
      covariances: [[[1100]], [[4000]]],
      covariance_type: 'full',
    },
    history: history(60, 0.01, 0.09),
    alert: { warning: true, critical: false },
  });
}

export function twoDimStream(name = 'user_embedding'): StreamView {
  return stream({
    name,
    fields: ['age', 'basket_value'],
    reference: {
      weights: [0.6, 0.4],
      means: [
        [35, 40],
        [52, 90],
      ],
      covariances: [
        [
          [64, 12],
          [12, 100],
        ],
        [
          [81, -20],
          [-20, 225],
        ],
      ],
      covariance_type: 'full',
    },
    window: {
      weights: [0.55, 0.45],
      means: [
        [36, 41],
        [51, 92],
      ],
      covariances: [
        [
          [66, 10],
          [10, 104],
        ],
        [
          [79, -18],
          [-18, 230],
        ],
      ],
      covariance_type: 'full',
    },
    history: history(60, 0.006, 0.03),
  });
}

/** A stream still collecting its reference: no models, no evaluation. */
export function warmingStream(name = 'cart_size'): StreamView {
  return {
    name,
    topic: 'features',
    fields: ['cart_size'],
    dimension: 1,
    phase: 'collecting_reference',
    ready: false,
    windowSamples: 0,
    referenceSamples: 812,
    recordsTotal: 812,
    evaluationIntervalSeconds: 30,
    lastEvaluation: undefined,
    thresholds: { js: { warning: 0.05, critical: 0.12 } },
    alert: { warning: false, critical: false },
    reference: undefined,
    window: undefined,
    history: [],
  };
}
