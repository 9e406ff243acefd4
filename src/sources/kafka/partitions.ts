/** One key per topic-partition for maps; topic names cannot hold a NUL. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}
