/**
 * Polls `check` every 100 ms until it returns a value (anything but undefined) and returns it;
 * fails after `timeoutMs`. A check that throws fails the wait at once. Tests wait on a
 * condition this way, never on a fixed sleep.
 */
export async function waitForValue<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
