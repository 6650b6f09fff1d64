import type { ApplyInput, ApplyOutcome, ApplyTarget } from './applier.pipeline';
import { CoalescingApplyTarget } from './coalescing-apply-target';

function command(id: string): ApplyInput {
  return { commandId: id, entityId: `e-${id}`, recordId: null, operation: 'upsert', version: 1, fields: { n: id }, matchedRecordId: null, matchBy: null };
}

class RecordingTarget implements ApplyTarget {
  calls: string[][] = [];
  failNext = false;

  async apply(commands: ApplyInput[]): Promise<ApplyOutcome[]> {
    this.calls.push(commands.map((c) => c.commandId));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('target down');
    }
    return commands.map((c) => ({ commandId: c.commandId, recordId: `r-${c.commandId}`, outcome: 'applied', fields: c.fields, error: null, position: null }));
  }
}

describe('CoalescingApplyTarget', () => {
  it('serves concurrent callers with one call and hands each its own outcomes', async () => {
    const target = new RecordingTarget();
    const coalescing = new CoalescingApplyTarget(target, { maxCommands: 100, lingerMs: 20 });
    const [first, second, third] = await Promise.all([
      coalescing.apply([command('a'), command('b')]),
      coalescing.apply([command('c')]),
      coalescing.apply([command('d'), command('e')]),
    ]);
    expect(target.calls).toEqual([['a', 'b', 'c', 'd', 'e']]);
    expect(first?.map((o) => o.commandId)).toEqual(['a', 'b']);
    expect(second?.map((o) => o.recordId)).toEqual(['r-c']);
    expect(third?.map((o) => o.commandId)).toEqual(['d', 'e']);
  });

  it('calls at once when enough commands are waiting', async () => {
    const target = new RecordingTarget();
    const coalescing = new CoalescingApplyTarget(target, { maxCommands: 3, lingerMs: 60_000 });
    await Promise.all([coalescing.apply([command('a'), command('b')]), coalescing.apply([command('c')])]);
    expect(target.calls).toEqual([['a', 'b', 'c']]);
  });

  it('rejects every caller of a failed call, so each partition retries its own batch', async () => {
    const target = new RecordingTarget();
    target.failNext = true;
    const coalescing = new CoalescingApplyTarget(target, { maxCommands: 100, lingerMs: 5 });
    const results = await Promise.allSettled([coalescing.apply([command('a')]), coalescing.apply([command('b')])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await coalescing.apply([command('a')])).toHaveLength(1);
  });
});
