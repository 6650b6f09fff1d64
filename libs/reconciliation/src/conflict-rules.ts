import type { FieldValue, Risk } from '@tandem/contracts';
import type { ConflictRule } from '@tandem/sync-config';

/** One side of a field conflict as the rules see it. */
export interface Contender {
  system: string;
  value: FieldValue;
  /** The source's time, never later than when Tandem observed it, so a fast clock cannot win forever. */
  at: string;
  eventId: string;
}

export type FieldDecision =
  | { kind: 'keep_current'; risk: Risk }
  | { kind: 'take_incoming'; risk: Risk }
  | { kind: 'merge'; value: FieldValue; risk: Risk }
  | { kind: 'pending'; risk: Risk };

/**
 * Decides a conflict between the value the entity holds (`current`) and a concurrent change
 * (`incoming`). A pure function of its inputs, so every replica decides the same way.
 */
export function decideField(rule: ConflictRule, current: Contender, incoming: Contender): FieldDecision {
  if (isCosmetic(current.value, incoming.value)) {
    return later(current, incoming) === incoming
      ? { kind: 'take_incoming', risk: 'cosmetic' }
      : { kind: 'keep_current', risk: 'cosmetic' };
  }
  const risk: Risk = rule.risk === 'high' ? 'high' : 'medium';
  if (risk === 'high') return { kind: 'pending', risk };
  const pick = (winner: Contender): FieldDecision =>
    winner === incoming ? { kind: 'take_incoming', risk } : { kind: 'keep_current', risk };

  switch (rule.strategy) {
    case 'source_wins':
      return pick(incoming);
    case 'target_wins':
      return pick(current);
    case 'latest_wins':
      return pick(later(current, incoming));
    case 'priority':
      return pick(byPriority(rule.order, current, incoming) ?? later(current, incoming));
    case 'prefer_non_empty': {
      const currentEmpty = isEmpty(current.value);
      if (currentEmpty !== isEmpty(incoming.value)) return pick(currentEmpty ? incoming : current);
      return pick((rule.order && byPriority(rule.order, current, incoming)) ?? later(current, incoming));
    }
    case 'concat':
      return { kind: 'merge', value: concat(current, incoming, rule.separator), risk };
    case 'manual':
      return { kind: 'pending', risk };
  }
}

/** Later source time wins; equal times fall back to system id, then event id, which every replica sees alike. */
export function later(a: Contender, b: Contender): Contender {
  const byTime = Date.parse(a.at) - Date.parse(b.at);
  if (byTime !== 0) return byTime > 0 ? a : b;
  if (a.system !== b.system) return a.system > b.system ? a : b;
  return a.eventId >= b.eventId ? a : b;
}

function byPriority(order: readonly string[], a: Contender, b: Contender): Contender | null {
  const rank = (contender: Contender) => {
    const index = order.indexOf(contender.system);
    return index === -1 ? Number.POSITIVE_INFINITY : index;
  };
  if (rank(a) === rank(b)) return null;
  return rank(a) < rank(b) ? a : b;
}

export function isEmpty(value: FieldValue): boolean {
  return value === null || (typeof value === 'string' && value.trim() === '');
}

/** Differences a person would not call a change: case, surrounding and repeated white space. */
function isCosmetic(a: FieldValue, b: FieldValue): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const normalize = (value: string) => value.trim().replace(/\s+/g, ' ').toLowerCase();
  return normalize(a) === normalize(b);
}

function concat(current: Contender, incoming: Contender, separator: string): FieldValue {
  const [older, newer] = later(current, incoming) === incoming ? [current, incoming] : [incoming, current];
  const olderText = isEmpty(older.value) ? '' : String(older.value);
  const newerText = isEmpty(newer.value) ? '' : String(newer.value);
  if (olderText.includes(newerText)) return olderText || null;
  if (newerText.includes(olderText)) return newerText;
  return `${olderText}${separator}${newerText}`;
}
