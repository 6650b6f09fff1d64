import type { StoredContact } from './contact-store.service';

/**
 * What search sees: each write becomes visible `delayMs` after it happened, as HubSpot's search index lags
 * its database. Archived contacts leave the index.
 */
export class SearchIndex {
  private readonly visible = new Map<string, StoredContact>();
  private readonly pending: Array<{ contact: StoredContact; visibleAt: number }> = [];

  constructor(private readonly delayMs: number) {}

  record(contact: StoredContact, now: number): void {
    this.pending.push({ contact, visibleAt: now + this.delayMs });
    if (this.delayMs === 0) this.catchUp(now);
  }

  /** Active contacts as search sees them now, in id order. */
  contacts(now: number): StoredContact[] {
    this.catchUp(now);
    return [...this.visible.values()].sort((a, b) => Number(a.id) - Number(b.id));
  }

  private catchUp(now: number): void {
    // The delay is constant, so pending entries are in visibility order.
    let applied = 0;
    for (const { contact, visibleAt } of this.pending) {
      if (visibleAt > now) break;
      if (contact.archived) this.visible.delete(contact.id);
      else this.visible.set(contact.id, contact);
      applied += 1;
    }
    this.pending.splice(0, applied);
  }
}
