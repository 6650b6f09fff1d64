import { MIGRATIONS } from './migrations';

describe('MIGRATIONS', () => {
  it('have unique, well-formed ids in ascending order, so every database applies them the same way', () => {
    const ids = MIGRATIONS.map((migration) => migration.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^\d{3}_[a-z0-9_]+$/);
  });

  it('use no extensions, which the embedded engine does not have', () => {
    for (const migration of MIGRATIONS) expect(migration.sql).not.toMatch(/CREATE\s+EXTENSION/i);
  });
});
