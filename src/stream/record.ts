import type { RejectReason } from './decode.js';

/**
 * One message as a source delivers it. Defined here, by its consumer: sources produce it,
 * the stream layer decodes it.
 */
export interface SourceRecord {
  topic: string;
  /** The message body: UTF-8 JSON. */
  value: string | Buffer;
  /** Event time; when absent the monitor stamps the record with its clock. */
  timestampMs?: number;
  partition?: number;
  offset?: string;
}

/** How `Monitor.ingest` treats a batch. */
export interface IngestOptions {
  /**
   * The records were counted by an earlier run (a restart replaying its source to rebuild the
   * windows): they refill windows, and a reference still being collected, but are not counted
   * again, as records or as rejects, nor reported to `onReject`.
   */
  replay?: boolean;
  /** Called after each rejection is counted; `stream` is undefined when the whole record was rejected. */
  onReject?: (reason: RejectReason, stream: string | undefined, record: SourceRecord) => void;
}
