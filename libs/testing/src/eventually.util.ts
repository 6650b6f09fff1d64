/**
 * Polls until `check` stops throwing (or returns a truthy value), instead of sleeping a fixed time.
 * The last failure is rethrown when the deadline passes, so the test shows what was still wrong.
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  { timeoutMs = 20_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error('condition never checked');
  while (Date.now() < deadline) {
    try {
      const result = await check();
      if (result !== false) return result;
      lastError = new Error('condition returned false');
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw lastError;
}
