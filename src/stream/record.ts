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
