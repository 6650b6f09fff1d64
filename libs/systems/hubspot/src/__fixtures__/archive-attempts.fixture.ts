import type { ArchiveAttempts } from '../hubspot-applier.service';

/** The attempts store an applier and its restarted successor share (Tandem's database in production). */
export function archiveAttemptsStore(): ArchiveAttempts {
  const sent = new Set<string>();
  return {
    attempted: async (ids) => new Set(ids.filter((id) => sent.has(id))),
    remember: async (ids) => void ids.forEach((id) => sent.add(id)),
    forget: async (ids) => void ids.forEach((id) => sent.delete(id)),
  };
}
