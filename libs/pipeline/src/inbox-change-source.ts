import { SourceInboxRepository, SourceRecordRepository, type SourceNotice, type SourceRecord, type SqlClient } from '@tandem/state';
import type { RecordChange, RecordChangeSource } from './connector.pipeline';

export interface FetchedRecord {
  recordId: string;
  values: Record<string, unknown>;
  modifiedAtMs: number;
  /** When the record was made, where the source tells. */
  createdAtMs?: number;
  /** Writes the record went through, where the source keeps a history: the fields each one set. */
  writes?: FetchedWrite[];
}

export interface FetchedWrite {
  modifiedAtMs: number;
  values: Record<string, unknown>;
}

/** Reads the current state of records from the source; a record it does not return is gone. */
export interface RecordFetcher {
  fetch(recordIds: string[]): Promise<FetchedRecord[]>;
  /**
   * The same, with the writes each record went through (`writes`), where the source keeps a history.
   * It costs more, so it is used for records already reported: the writes since their report whose
   * notices never came are in it.
   */
  fetchWithHistory?(recordIds: string[]): Promise<FetchedRecord[]>;
  /**
   * What gone records last held, as of their deletion, with the writes they went through where the
   * source keeps a history, for sources that keep them readable (HubSpot's archived contacts). For a
   * record deleted before it was ever reported, it is the only way to know whose it was; for any
   * record, it places the deletion where it happened and shows the edits made just before it.
   */
  fetchDeleted?(recordIds: string[]): Promise<FetchedRecord[]>;
}

export interface InboxChangeSourceOptions {
  db: SqlClient;
  tenantId: string;
  systemId: string;
  fetcher: RecordFetcher;
  /** How long a notice may wait for others to share its fetch: fewer calls for a little latency. */
  coalesceMs?: number;
  /** Records one fetch call reads; a batch with this many to fetch goes at once. */
  fetchBatchSize?: number;
}

/** How many published states of a record are remembered to tell a repeated notice from a late edit. */
const REPORTED_WINDOW = 32;

interface PendingAcknowledgement {
  noticeIds: string[];
  record: SourceRecord;
}

/**
 * A source whose notices arrive out of order, late or twice (webhooks, polls, backfill pages), made
 * into a record source read in order: notices wait in an inbox; each batch fetches what the notices
 * only announced, compares each record with what the source last reported, and emits a change only
 * when the record is newer and different. The source's own modification time orders the reports,
 * so a late or repeated notice is dropped, and the record's previous report is the change's `before`.
 */
export class InboxChangeSource implements RecordChangeSource {
  private readonly inbox: SourceInboxRepository;
  private readonly records: SourceRecordRepository;
  private readonly pending = new WeakMap<RecordChange, PendingAcknowledgement>();
  private readonly coalesceMs: number;
  private readonly fetchBatchSize: number;
  private wake: (() => void) | null = null;
  private notified = false;
  /** When the notices held back for coalescing are due. */
  private dueInMs: number | null = null;

  constructor(private readonly options: InboxChangeSourceOptions) {
    this.inbox = new SourceInboxRepository(options.db);
    this.records = new SourceRecordRepository(options.db);
    this.coalesceMs = options.coalesceMs ?? 200;
    this.fetchBatchSize = options.fetchBatchSize ?? 100;
  }

  /** Stores notices durably; once this resolves the source may be told they were received. */
  async enqueue(notices: SourceNotice[]): Promise<void> {
    await this.inbox.add(this.options.tenantId, this.options.systemId, notices);
    this.notify();
  }

  /** Wakes a reader waiting for changes (notices added by another path of this process). */
  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  async recordsReportedDeleted(recordIds: string[]): Promise<Set<string>> {
    const reported = await this.records.load(this.options.tenantId, this.options.systemId, recordIds);
    return new Set([...reported.values()].filter((record) => record.deleted).map((record) => record.recordId));
  }

  pendingNotices(): Promise<number> {
    return this.inbox.count(this.options.tenantId, this.options.systemId);
  }

  async readBatch(limit: number): Promise<RecordChange[]> {
    const { tenantId, systemId } = this.options;
    for (;;) {
      this.dueInMs = null;
      const notices = await this.inbox.peek(tenantId, systemId, limit);
      if (notices.length === 0) return [];
      const toFetch = [...new Set(notices.filter((notice) => notice.kind !== 'record').map((notice) => notice.recordId))];
      const oldestToFetch = Math.max(0, ...notices.filter((notice) => notice.kind !== 'record').map((notice) => notice.ageMs));
      if (toFetch.length > 0 && toFetch.length < this.fetchBatchSize && notices.length < limit && oldestToFetch < this.coalesceMs) {
        this.dueInMs = this.coalesceMs - oldestToFetch;
        return [];
      }

      const byRecord = new Map<string, typeof notices>();
      for (const notice of notices) byRecord.set(notice.recordId, [...(byRecord.get(notice.recordId) ?? []), notice]);
      const previous = await this.records.load(tenantId, systemId, [...byRecord.keys()]);
      const { fetcher } = this.options;
      const fetched = await this.fetchCurrent([...toFetch, ...foundPastReport(byRecord, previous, fetcher)], previous);
      const gone = toFetch.filter((recordId) => !fetched.has(recordId) && previous.get(recordId)?.deleted !== true);
      const lastHeld = fetcher.fetchDeleted ? await this.fetchAll(gone, (recordIds) => fetcher.fetchDeleted!(recordIds)) : new Map<string, FetchedRecord>();

      const changes: RecordChange[] = [];
      const dropped: string[] = [];
      for (const [recordId, recordNotices] of byRecord) {
        const noticeIds = recordNotices.map((notice) => notice.id);
        const reported = previous.get(recordId);
        const current = currentState(recordId, recordNotices, fetched, lastHeld, reported);
        let last = reported;
        const recordChanges: RecordChange[] = [];
        for (const notice of lateNotices(reported, recordNotices)) {
          const change = lateChange(last!, notice);
          recordChanges.push(change);
          // The record still holds what was last reported; only its position moves on.
          last = { ...last!, modifiedAtMs: Number(change.sequence) };
        }
        // The source's own history announces the writes in between as their notices would have.
        const read = fetched.get(recordId) ?? lastHeld.get(recordId);
        const announcing = [...recordNotices, ...(read?.writes ?? []).map((write): SourceNotice => ({ recordId, kind: 'changed', ...write }))];
        for (const state of [...announcedStates(reported, announcing, current), current]) {
          const change = changeBetween(last, state);
          if (!change) continue;
          recordChanges.push(change);
          last = state;
        }
        // A record seen for the first time may be seen long after it was made.
        const createdAtMs = read?.createdAtMs;
        if (!reported && createdAtMs !== undefined) {
          for (const change of recordChanges) if (change.operation === 'insert') change.createdAt = new Date(createdAtMs);
        }
        const newest = recordChanges.at(-1);
        if (!newest || !last) {
          dropped.push(...noticeIds);
          continue;
        }
        const published = recordChanges.map((change) => Number(change.madeAt ?? change.sequence));
        const record = current.modifiedAtMs >= last.modifiedAtMs ? current : last;
        const reportedMs = [...(reported?.reportedMs ?? []), ...published].slice(-REPORTED_WINDOW);
        this.pending.set(newest, { noticeIds, record: { ...record, reportedMs } });
        changes.push(...recordChanges);
      }
      await this.inbox.remove(tenantId, systemId, dropped);
      if (changes.length > 0) return changes;
    }
  }

  /** Records already reported live are read with their history, where the source keeps one. */
  private async fetchCurrent(recordIds: string[], previous: Map<string, SourceRecord>): Promise<Map<string, FetchedRecord>> {
    const { fetcher } = this.options;
    if (!fetcher.fetchWithHistory) return this.fetchAll(recordIds, (ids) => fetcher.fetch(ids));
    const reported = recordIds.filter((recordId) => previous.get(recordId)?.deleted === false);
    const firstSeen = recordIds.filter((recordId) => previous.get(recordId)?.deleted !== false);
    return new Map([...(await this.fetchAll(firstSeen, (ids) => fetcher.fetch(ids))), ...(await this.fetchAll(reported, (ids) => fetcher.fetchWithHistory!(ids)))]);
  }

  private async fetchAll(recordIds: string[], read: (recordIds: string[]) => Promise<FetchedRecord[]>): Promise<Map<string, FetchedRecord>> {
    const fetched = new Map<string, FetchedRecord>();
    for (let start = 0; start < recordIds.length; start += this.fetchBatchSize) {
      for (const record of await read(recordIds.slice(start, start + this.fetchBatchSize))) fetched.set(record.recordId, record);
    }
    return fetched;
  }

  /** Removes the published changes' notices and records what the source now holds, atomically. */
  async acknowledge(changes: readonly RecordChange[]): Promise<void> {
    const { tenantId, systemId } = this.options;
    const done = changes.map((change) => this.pending.get(change)).filter((entry): entry is PendingAcknowledgement => entry !== undefined);
    await this.options.db.transaction(async (tx) => {
      await new SourceInboxRepository(tx).remove(tenantId, systemId, done.flatMap((entry) => entry.noticeIds));
      await new SourceRecordRepository(tx).save(tenantId, systemId, done.map((entry) => entry.record));
    });
  }

  async waitForChanges(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const waitMs = this.dueInMs === null ? timeoutMs : Math.min(timeoutMs, this.dueInMs);
    if (this.notified && this.dueInMs === null) {
      this.notified = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      signal?.addEventListener('abort', done, { once: true });
      // While notices are held back for coalescing, new ones do not end the wait early.
      if (this.dueInMs === null) this.wake = done;
    });
    this.notified = false;
  }
}

/**
 * Records only the safety net reports (a poll's full records), live and past their last report: the
 * webhooks of the writes in between never came, or not yet. Where the source keeps a history, they
 * are fetched for it, so those writes are published rather than skipped.
 */
function foundPastReport(byRecord: Map<string, SourceNotice[]>, previous: Map<string, SourceRecord>, fetcher: RecordFetcher): string[] {
  if (!fetcher.fetchWithHistory) return [];
  return [...byRecord].flatMap(([recordId, notices]) => {
    const reported = previous.get(recordId);
    const past =
      reported && !reported.deleted && notices.every((notice) => notice.kind === 'record') && notices.some((notice) => (notice.modifiedAtMs ?? 0) > reported.modifiedAtMs);
    return past ? [recordId] : [];
  });
}

/**
 * The record as the source holds it now: fetched when a notice only announced it (or for its
 * history), else the newest report. A gone record keeps what it last held: what the source can
 * still read of it, or else its last report, which a late edit's notice is weighed against.
 */
function currentState(
  recordId: string,
  notices: ReadonlyArray<SourceNotice & { id: string }>,
  fetched: Map<string, FetchedRecord>,
  lastHeld: Map<string, FetchedRecord>,
  reported: SourceRecord | undefined,
): SourceRecord {
  const record = fetched.get(recordId);
  if (record) return { recordId, modifiedAtMs: record.modifiedAtMs, deleted: false, values: record.values, reportedMs: [] };
  if (notices.some((notice) => notice.kind !== 'record')) {
    const gone = lastHeld.get(recordId);
    const reportedAt = [...notices.map((notice) => notice.modifiedAtMs), gone?.modifiedAtMs ?? null].filter((time): time is number => time !== null);
    return { recordId, modifiedAtMs: reportedAt.length > 0 ? Math.max(...reportedAt) : Date.now(), deleted: true, values: gone?.values ?? reported?.values ?? {}, reportedMs: [] };
  }
  const newest = notices.reduce((best, notice) => ((notice.modifiedAtMs ?? 0) >= (best.modifiedAtMs ?? 0) ? notice : best));
  return { recordId, modifiedAtMs: newest.modifiedAtMs ?? Date.now(), deleted: false, values: newest.values ?? {}, reportedMs: [] };
}

/**
 * States a record passed through between its last report and now, as notices that carry values
 * announced them (a webhook's property change). A fetch only sees the end state; when Tandem's own
 * write landed in between, the edit it overwrote would otherwise never be seen, and the reconciler
 * could not tell that the two were concurrent.
 */
function announcedStates(previous: SourceRecord | undefined, notices: ReadonlyArray<SourceNotice>, current: SourceRecord): SourceRecord[] {
  const live = previous && !previous.deleted ? previous : null;
  // An edit made just before the record was deleted (by Tandem's own delete, say) is still an edit:
  // the fetch finds nothing, but the notice's values are what the record held until then, over what
  // it held before: its last report, or for one never reported, what the source keeps of it.
  const held = current.deleted ? (live?.values ?? current.values) : current.values;
  if (Object.keys(held).length === 0) return [];
  const known = new Set(Object.keys(held));
  const before = (time: number) => time < current.modifiedAtMs || (current.deleted && time === current.modifiedAtMs);
  const since = notices
    .filter((notice) => notice.kind === 'changed' && notice.values !== null && notice.modifiedAtMs !== null)
    .filter((notice) => notice.modifiedAtMs! > (previous?.modifiedAtMs ?? -1));
  const between = since.filter((notice) => before(notice.modifiedAtMs!)).sort((a, b) => a.modifiedAtMs! - b.modifiedAtMs!);
  // A record seen for the first time has no earlier report. A field no notice announces is taken as
  // it is now; one a notice announces is unknown before that notice, which changed it: what it holds
  // now, or what the notice gave it, may be an edit made after the states in between, which published
  // early would seem undone and redone, or be taken for the state a write of Tandem's left there.
  let values = live?.values ?? withoutAnnounced(current.values, since.filter((notice) => notice.modifiedAtMs! <= current.modifiedAtMs));
  const states: SourceRecord[] = [];
  for (const notice of between) {
    const announced = Object.fromEntries(Object.entries(notice.values!).filter(([field]) => known.has(field)));
    values = { ...values, ...announced };
    const last = states.at(-1);
    if (last && last.modifiedAtMs === notice.modifiedAtMs) last.values = values;
    else states.push({ recordId: current.recordId, modifiedAtMs: notice.modifiedAtMs!, deleted: false, values, reportedMs: [] });
  }
  return states;
}

/** The values without the fields any of these notices announces. */
function withoutAnnounced(values: Record<string, unknown>, notices: ReadonlyArray<SourceNotice>): Record<string, unknown> {
  const announced = new Set(notices.flatMap((notice) => Object.keys(notice.values ?? {})));
  return Object.fromEntries(Object.entries(values).filter(([field]) => !announced.has(field)));
}

/**
 * Notices that announce values as of a time the last report already covers, values that report does
 * not hold, in a state not published before: edits whose webhooks arrived after a later state of the
 * record (Tandem's write over them, often) had been fetched and reported, or after its deletion
 * (weighed against what it held then). Oldest first.
 */
function lateNotices(reported: SourceRecord | undefined, notices: ReadonlyArray<SourceNotice>): Array<SourceNotice & { modifiedAtMs: number; values: Record<string, unknown> }> {
  if (!reported) return [];
  return notices
    .filter((notice): notice is SourceNotice & { modifiedAtMs: number; values: Record<string, unknown> } =>
      notice.kind === 'changed' && notice.values !== null && notice.modifiedAtMs !== null && notice.modifiedAtMs <= reported.modifiedAtMs && !reported.reportedMs.includes(notice.modifiedAtMs))
    .filter((notice) => Object.entries(notice.values).some(([field, value]) => field in reported.values && !sameValues({ value }, { value: reported.values[field] })))
    .sort((a, b) => a.modifiedAtMs - b.modifiedAtMs);
}

/**
 * A late edit, published after the states already reported: it takes the next sequence, says where
 * it was made (so the reconciler sees which of Tandem's writes it had not seen), and changes only the
 * fields it announced.
 */
function lateChange(last: SourceRecord, notice: SourceNotice & { modifiedAtMs: number; values: Record<string, unknown> }): RecordChange {
  const announced = Object.fromEntries(Object.entries(notice.values).filter(([field]) => field in last.values));
  return {
    sequence: String(last.modifiedAtMs + 1),
    madeAt: String(notice.modifiedAtMs),
    operation: 'update',
    recordId: last.recordId,
    before: last.values,
    after: { ...last.values, ...announced },
    changedAt: new Date(notice.modifiedAtMs),
  };
}

/**
 * The change from the last report to the current state, or null when there is none to publish: a
 * report older than the last one, the same values again, or a deletion already reported. A record
 * deleted before it was ever reported is reported deleted all the same: Tandem may have created it
 * there, and only the connector can tell it is linked. Sequences are the source's modification
 * times, kept increasing per record so the reconciler can compare them with the positions of
 * Tandem's own writes.
 */
function changeBetween(previous: SourceRecord | undefined, current: SourceRecord): RecordChange | null {
  const live = previous && !previous.deleted ? previous : null;
  if (current.deleted && previous?.deleted) return null;
  if (!current.deleted && live && (current.modifiedAtMs < live.modifiedAtMs || sameValues(live.values, current.values))) return null;
  const sequence = Math.max(current.modifiedAtMs, previous ? previous.modifiedAtMs + 1 : 0);
  current.modifiedAtMs = sequence;
  return {
    sequence: String(sequence),
    operation: current.deleted ? 'delete' : live ? 'update' : 'insert',
    recordId: current.recordId,
    // A record gone before it was ever reported: what it last held, if the source could tell.
    before: live?.values ?? (current.deleted && Object.keys(current.values).length > 0 ? current.values : null),
    after: current.deleted ? null : current.values,
    changedAt: new Date(sequence),
  };
}

function sameValues(left: Record<string, unknown>, right: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (JSON.stringify(left[key] ?? null) !== JSON.stringify(right[key] ?? null)) return false;
  return true;
}
