import type { ArchiveAttempts } from '../hubspot-applier.service';

/** The attempts store an applier and its restarted successor share (Tandem's database in production). */
export function archiveAttemptsStore(): ArchiveAttempts {
  const sent = new Map<string, number>();
  return {
    attempted: async (ids) => new Map(ids.flatMap((id) => (sent.has(id) ? [[id, sent.get(id)!] as const] : []))),
    remember: async (ids, archivedBy) => void ids.forEach((id) => sent.set(id, Math.max(archivedBy, sent.get(id) ?? archivedBy))),
    forget: async (ids) => void ids.forEach((id) => sent.delete(id)),
  };
}
