/**
 * The one error class of the Kafka source. `retriable` says whether trying again later can
 * help (a broker away, a rebalance) or not (a missing password, a refused login): the
 * supervisor backs off and retries the first kind, and fails the start on the second.
 */
export class KafkaSourceError extends Error {
  override readonly name = 'KafkaSourceError';
  readonly retriable: boolean;

  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable;
  }
}

/**
 * Whether an error from kafkajs (or ours) may go away by itself. kafkajs marks its errors
 * with `retriable`, wrapping the original in `cause`; "retries exceeded" means retriable
 * errors kept coming, which a longer wait may still cure. Anything unmarked is a bug or a
 * refusal, not an outage.
 */
export function isRetriable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSConnectionError') return true;
    const flag = (e as { retriable?: unknown }).retriable;
    if (typeof flag === 'boolean') return flag;
  }
  return false;
}
