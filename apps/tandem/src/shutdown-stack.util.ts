/**
 * What the process opened, closed in reverse order: services before the broker they consume from,
 * the broker before the database under it. A failed close is reported and the rest still close.
 */
export class ShutdownStack {
  private readonly entries: Array<{ name: string; close: () => Promise<unknown> }> = [];

  push(name: string, close: () => Promise<unknown>): void {
    this.entries.push({ name, close });
  }

  /** Resolves with the names of what failed to close. */
  async closeAll(onFailure: (name: string, error: unknown) => void): Promise<string[]> {
    const failed: string[] = [];
    for (let entry = this.entries.pop(); entry; entry = this.entries.pop()) {
      try {
        await entry.close();
      } catch (error) {
        onFailure(entry.name, error);
        failed.push(entry.name);
      }
    }
    return failed;
  }
}
