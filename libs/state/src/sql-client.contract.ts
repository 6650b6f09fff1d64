import type { SqlClient } from './sql-client.interface';

/**
 * What every SqlClient must do, whatever engine stands behind it: run against the server driver and
 * against PGlite, so repositories cannot tell them apart. `client` is called per test, after setup.
 */
export function describeSqlClientContract(name: string, client: () => SqlClient): void {
  describe(`SqlClient contract: ${name}`, () => {
    beforeAll(() => client().query('CREATE TABLE contract_items (name text PRIMARY KEY)'));
    afterAll(() => client().query('DROP TABLE contract_items'));
    beforeEach(() => client().query('DELETE FROM contract_items'));

    const names = async (): Promise<string[]> =>
      (await client().query<{ name: string }>('SELECT name FROM contract_items ORDER BY name')).rows.map((row) => row.name);

    it('runs parameterized queries and reports affected rows', async () => {
      const inserted = await client().query('INSERT INTO contract_items (name) VALUES ($1), ($2)', ['a', 'b']);
      expect(inserted.rowCount).toBe(2);
      expect(await names()).toEqual(['a', 'b']);
    });

    it('runs several statements in one call without parameters and answers with the last', async () => {
      const result = await client().query<{ count: string }>(
        "INSERT INTO contract_items (name) VALUES ('x'); INSERT INTO contract_items (name) VALUES ('y'); SELECT count(*) FROM contract_items",
      );
      expect(result).toEqual({ rows: [{ count: '2' }], rowCount: 1 });
    });

    it('returns values the way the server driver does', async () => {
      const { rows } = await client().query(
        `SELECT 9007199254740993::int8 AS big, ARRAY[1, 2]::int8[] AS bigs, 1.50::numeric AS amount, 7::int4 AS small,
                $1::bytea AS bytes, '{"a":[1]}'::jsonb AS doc, '2024-05-01T10:00:00Z'::timestamptz AS at, NULL::text AS nothing`,
        [Buffer.from('hi')],
      );
      expect(rows).toEqual([
        {
          big: '9007199254740993',
          bigs: ['1', '2'],
          amount: '1.50',
          small: 7,
          bytes: Buffer.from('hi'),
          doc: { a: [1] },
          at: new Date('2024-05-01T10:00:00Z'),
          nothing: null,
        },
      ]);
    });

    it('commits a transaction whose work resolves', async () => {
      const result = await client().transaction(async (tx) => {
        await tx.query("INSERT INTO contract_items (name) VALUES ('committed')");
        return 'done';
      });
      expect(result).toBe('done');
      expect(await names()).toEqual(['committed']);
    });

    it('rolls back a transaction whose work rejects, and rethrows the error', async () => {
      const failure = new Error('work failed');
      await expect(
        client().transaction(async (tx) => {
          await tx.query("INSERT INTO contract_items (name) VALUES ('lost')");
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await names()).toEqual([]);
    });

    it('nests transactions as savepoints: a failed inner one leaves the outer work intact', async () => {
      await client().transaction(async (tx) => {
        await tx.query("INSERT INTO contract_items (name) VALUES ('outer')");
        await expect(
          tx.transaction(async (inner) => {
            await inner.query("INSERT INTO contract_items (name) VALUES ('inner')");
            await inner.transaction((innermost) => innermost.query("INSERT INTO contract_items (name) VALUES ('innermost')"));
            throw new Error('inner failed');
          }),
        ).rejects.toThrow('inner failed');
        // A failed statement inside a savepoint does not poison the outer transaction either.
        await expect(tx.transaction((inner) => inner.query('INSERT INTO contract_items (name) VALUES (NULL)'))).rejects.toThrow();
        await tx.transaction((inner) => inner.query("INSERT INTO contract_items (name) VALUES ('inner-ok')"));
      });
      expect(await names()).toEqual(['inner-ok', 'outer']);
    });
  });
}
