/** Fit benchmark; filled in below. */
export async function benchFit(log: (line: string) => void): Promise<void> {
  log('fit benchmark: not yet written');
}
