import type { ConflictDecision, FieldValue } from '@tandem/contracts';
import type { Publisher, TopicNames } from '@tandem/messaging';
import { ConflictLogRepository, type SqlClient } from '@tandem/state';

export type ConflictChoice = { kind: 'side'; system: string } | { kind: 'value'; value: FieldValue };

export class ConflictResolutionError extends Error {
  constructor(
    readonly code: 'not_found' | 'not_pending' | 'invalid_choice',
    message: string,
  ) {
    super(message);
    this.name = 'ConflictResolutionError';
  }
}

/**
 * A person's decision on a pending conflict. It is not applied here: it travels on the changes topic
 * keyed by the entity, so the reconciler that owns the entity applies it in order with every other
 * change to that entity and sends the chosen value to every system.
 */
export class ConflictResolver {
  constructor(
    private readonly db: SqlClient,
    private readonly publisher: Publisher,
    private readonly topics: TopicNames,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async resolve(conflictId: string, choice: ConflictChoice, decidedBy: string): Promise<ConflictDecision['data']> {
    const conflict = await new ConflictLogRepository(this.db).get(conflictId);
    if (!conflict) throw new ConflictResolutionError('not_found', `conflict ${conflictId} does not exist`);
    if (conflict.status !== 'pending') throw new ConflictResolutionError('not_pending', `conflict ${conflictId} was already decided`);
    if (choice.kind === 'side' && !conflict.sides.some((side) => side.system === choice.system)) {
      const systems = conflict.sides.map((side) => side.system).join(' or ');
      throw new ConflictResolutionError('invalid_choice', `conflict ${conflictId} has no side from "${choice.system}"; choose ${systems}`);
    }
    if (choice.kind === 'value' && conflict.kind === 'delete_update') {
      throw new ConflictResolutionError('invalid_choice', `conflict ${conflictId} is delete against update: choose a side`);
    }
    const decidedAt = this.clock().toISOString();
    const data: ConflictDecision['data'] = {
      conflictId,
      entityType: conflict.entityType,
      entityId: conflict.entityId,
      choice,
      decidedBy,
      decidedAt,
    };
    await this.publisher.publish(this.topics.changes, [
      { type: 'conflict.decision', eventId: `${conflictId}>decision@${decidedAt}`, tenantId: conflict.tenantId, occurredAt: decidedAt, origin: 'admin', data },
    ]);
    return data;
  }
}
