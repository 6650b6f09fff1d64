import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { createTempDatabase, planOf, recordingStatements } from '@tandem/testing';
import { Pool } from 'pg';
import { PostgresChangeCapture } from './change-capture.service';
import { PostgresApplier, type ApplyCommandInput } from './postgres-applier.service';
import { PostgresSystemError, PostgresSystemErrorCode } from './postgres-system.error';
import type { PostgresTableInput } from './postgres-table.schema';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(table: Partial<PostgresTableInput> = {}): Promise<{ pool: Pool; applier: PostgresApplier }> {
  const db = await createTempDatabase('pg_applier');
  cleanups.push(() => db.drop());
  const pool = new Pool({ connectionString: db.url, max: 4 });
  cleanups.push(() => pool.end());
  await pool.query(`CREATE TABLE contacts (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text,
    score int,
    vip boolean,
    deleted_at timestamptz
  )`);
  const applier = new PostgresApplier({ pool, table: { table: 'contacts', ...table } });
  await applier.install();
  return { pool, applier };
}

let commandNumber = 0;
function command(overrides: Partial<ApplyCommandInput> & Pick<ApplyCommandInput, 'entityId'>): ApplyCommandInput {
  commandNumber += 1;
  return { commandId: `cmd-${commandNumber}`, recordId: null, operation: 'upsert', version: 1, fields: {}, ...overrides };
}

async function rows(pool: Pool): Promise<Array<Record<string, unknown>>> {
  const result = await pool.query('SELECT id::text AS id, email, name, score, vip, deleted_at FROM contacts ORDER BY id');
  return result.rows;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('PostgresApplier', () => {
  it('creates a row, then updates the same record when the entity comes back without a record id', async () => {
    const { pool, applier } = await setup();
    const entityId = randomUUID();

    const [created] = await applier.apply([
      command({ entityId, version: 1, fields: { email: 'ada@example.com', score: '7', vip: true } }),
    ]);
    const [updated] = await applier.apply([command({ entityId, version: 2, fields: { name: 'Ada' } })]);

    expect(created).toMatchObject({
      outcome: 'applied',
      recordId: '1',
      fields: { email: 'ada@example.com', score: 7, vip: true },
      error: null,
    });
    expect(updated).toMatchObject({ outcome: 'applied', recordId: '1', fields: { name: 'Ada' } });
    expect(await rows(pool)).toEqual([
      { id: '1', email: 'ada@example.com', name: 'Ada', score: 7, vip: true, deleted_at: null },
    ]);
    const applied = await pool.query('SELECT entity_id::text, record_id, version::int, command_id FROM tandem.applied');
    expect(applied.rows).toEqual([
      { entity_id: entityId, record_id: '1', version: 2, command_id: updated!.commandId },
    ]);
  });

  it('writes a create to the record matched to the entity, or inserts when that record is gone', async () => {
    const { pool, applier } = await setup();
    // The same contact entered here by a person while Tandem's create for it was on its way.
    await pool.query(`INSERT INTO contacts (email, name) VALUES ('ada@example.com', 'Ada'), ('bob@example.com', 'Bob')`);
    const [entityId, otherId] = [randomUUID(), randomUUID()];
    await pool.query(`DELETE FROM contacts WHERE id = 2`);

    const [matched, gone] = await applier.apply([
      command({ entityId, matchedRecordId: '1', fields: { email: 'ada@example.com', name: 'Ada L' } }),
      command({ entityId: otherId, matchedRecordId: '2', fields: { email: 'bob@example.com', name: 'Bob' } }),
    ]);

    expect(matched).toMatchObject({ outcome: 'applied', recordId: '1' });
    expect(gone).toMatchObject({ outcome: 'applied', recordId: '3' });
    expect((await rows(pool)).map((row) => [row['id'], row['email'], row['name']])).toEqual([
      ['1', 'ada@example.com', 'Ada L'],
      ['3', 'bob@example.com', 'Bob'],
    ]);
  });

  it('writes a create to a row a person entered with its match key, never to a row Tandem wrote', async () => {
    const { pool, applier } = await setup();
    const [entityId, otherId, laterId] = [randomUUID(), randomUUID(), randomUUID()];
    await applier.apply([command({ entityId: otherId, fields: { email: 'bob@example.com', name: 'Bob' } })]);
    // Entered here while this table's connector was not reading: nothing links it to the entity yet.
    await pool.query(`INSERT INTO contacts (email, name) VALUES ('  Ada@Example.COM ', 'Ada')`);

    const [matched, notTandems] = await applier.apply([
      command({ entityId, fields: { email: 'ada@example.com', name: 'Ada L' }, matchBy: { column: 'email', value: 'ada@example.com' } }),
      command({ entityId: laterId, fields: { email: 'bob2@example.com', name: 'Bob' }, matchBy: { column: 'name', value: 'bob' } }),
    ]);

    expect(matched).toMatchObject({ outcome: 'applied', recordId: '2', fields: { email: 'ada@example.com', name: 'Ada L' } });
    expect(notTandems).toMatchObject({ outcome: 'applied', recordId: '3' });
    expect((await rows(pool)).map((row) => [row['id'], row['email'], row['name']])).toEqual([
      ['1', 'bob@example.com', 'Bob'],
      ['2', 'ada@example.com', 'Ada L'],
      ['3', 'bob2@example.com', 'Bob'],
    ]);
    const applied = await pool.query('SELECT entity_id::text, record_id FROM tandem.applied ORDER BY record_id');
    expect(applied.rows).toEqual([
      { entity_id: otherId, record_id: '1' },
      { entity_id: entityId, record_id: '2' },
      { entity_id: laterId, record_id: '3' },
    ]);
  });

  it('finds a person\'s row through the index of its key while an initial sync fills the table, faster than its statistics follow', async () => {
    const { pool, applier } = await setup();
    await pool.query(`CREATE INDEX tandem_match_contacts_email ON contacts (lower(email))`);
    await applier.indexMatchColumn('email');
    // Tandem's own row holding the key a person then types in again by hand, and a table grown since.
    const [own] = await applier.apply([command({ entityId: randomUUID(), fields: { email: 'ADA@example.com', name: 'A' } })]);
    await pool.query(`INSERT INTO contacts (email, name) SELECT 'person' || n || '@example.com', 'P' FROM generate_series(1, 1000) AS n`);
    await pool.query('ANALYZE contacts');
    await pool.query(`INSERT INTO contacts (email, name) SELECT 'person' || n || '@example.com', 'P' FROM generate_series(1001, 20000) AS n`);
    const { rows: [typed] } = await pool.query<{ id: string }>(`INSERT INTO contacts (email, name) VALUES ('  Ada@Example.COM ', 'Ada') RETURNING id::text`);
    await applier.indexMatchColumn('email');
    const indexes = await pool.query<{ name: string; valid: boolean }>(
      `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'contacts'::regclass AND c.relname LIKE 'tandem%' ORDER BY 1`,
    );
    // The index an earlier release named so is replaced.
    expect(indexes.rows).toEqual([{ name: 'tandem_matchkey_contacts_email', valid: true }]);
    const creates = ['ada', ...Array.from({ length: 199 }, (_, n) => `new${n}`)].map((name) =>
      command({ entityId: randomUUID(), fields: { email: `${name}@example.com`, name }, matchBy: { column: 'email', value: `${name}@example.com` } }),
    );

    const { result: [matched, ...inserted], statements } = await recordingStatements(() => applier.apply(creates));

    // The person's row, not the older one Tandem wrote with the same key.
    expect(own).toMatchObject({ outcome: 'applied' });
    expect(matched).toMatchObject({ outcome: 'applied', recordId: typed!.id });
    expect(new Set(inserted.map((outcome) => outcome.outcome))).toEqual(new Set(['applied']));
    const lookups = statements.filter(({ text }) => text.includes('tandem.match_key('));
    expect(lookups).toHaveLength(1);
    const plan = await planOf(pool, lookups[0]!);
    expect(plan.indexNames).toContain('tandem_matchkey_contacts_email');
    expect(plan.nodeTypes).not.toContain('Seq Scan');
  });

  it('prepares the statements every batch runs once per connection, unless told not to', async () => {
    const db = await createTempDatabase('pg_applier');
    cleanups.push(() => db.drop());
    for (const preparedStatements of [true, false]) {
      // One connection, so the prepared statements read below are the applier's.
      const pool = new Pool({ connectionString: db.url, max: 1 });
      cleanups.push(() => pool.end());
      await pool.query(`CREATE TABLE IF NOT EXISTS contacts (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text)`);
      const applier = new PostgresApplier({ pool, table: { table: 'contacts' }, preparedStatements });
      await applier.install();
      for (const batch of [1, 2]) {
        // A person's row one create of each batch matches: the lookups of rows to take over run too.
        await pool.query(`INSERT INTO contacts (email) VALUES ('${preparedStatements}${batch}1@example.com')`);
        const creates = [1, 2, 3].map((n) => command({ entityId: randomUUID(), fields: { email: `${preparedStatements}${batch}${n}@example.com` }, matchBy: { column: 'email', value: `${preparedStatements}${batch}${n}@example.com` } }));
        expect((await applier.apply(creates)).map((outcome) => outcome.outcome)).toEqual(['applied', 'applied', 'applied']);
      }
      const prepared = (await pool.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements')).rows.map((row) => row.statement);
      if (!preparedStatements) {
        expect(prepared).toEqual([]);
        continue;
      }
      // The locks, the applied versions, the match lookups and the marks of new rows: each once.
      for (const part of ['pg_advisory_xact_lock', 'FROM tandem.applied WHERE entity_id', 'FROM tandem.applied WHERE table_name', 'tandem.match_key(', 'INSERT INTO tandem.applied']) {
        expect({ part, prepared: prepared.filter((statement) => statement.includes(part)).length }).toEqual({ part, prepared: 1 });
      }
    }
  });

  it('updates the record named by the command', async () => {
    const { pool, applier } = await setup();
    await pool.query(`INSERT INTO contacts (email, name) VALUES ('grace@example.com', 'G')`);

    const [outcome] = await applier.apply([
      command({ entityId: randomUUID(), recordId: '1', fields: { name: 'Grace', score: null } }),
    ]);

    expect(outcome).toMatchObject({ outcome: 'applied', recordId: '1', fields: { name: 'Grace', score: null } });
    expect(await rows(pool)).toMatchObject([{ id: '1', name: 'Grace' }]);
  });

  it('creates a batch of rows in one insert, each record linked to its own entity', async () => {
    const { pool, applier } = await setup();
    const creates = ['ada', 'bob', 'cy', 'dee'].map((name) =>
      command({ entityId: randomUUID(), fields: { email: `${name}@example.com`, name, score: '1' } }),
    );
    const other = command({ entityId: randomUUID(), fields: { email: 'eve@example.com' } });

    const outcomes = await applier.apply([...creates, other]);

    const byRecord = new Map((await rows(pool)).map((row) => [row['id'], row]));
    expect(outcomes.map((o) => o.outcome)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
    outcomes.forEach((outcome, index) => {
      expect(byRecord.get(outcome.recordId)).toMatchObject({ email: [...creates, other][index]!.fields['email'] });
    });
    const applied = await pool.query<{ entity_id: string; record_id: string }>('SELECT entity_id::text, record_id FROM tandem.applied');
    expect(new Map(applied.rows.map((row) => [row.entity_id, row.record_id]))).toEqual(
      new Map([...creates, other].map((create, index) => [create.entityId, outcomes[index]!.recordId])),
    );
  });

  it('updates a batch of records with the same columns in one statement, each marked for its own entity', async () => {
    const { pool, applier } = await setup();
    await pool.query(`INSERT INTO contacts (email) SELECT 'p' || i || '@example.com' FROM generate_series(1, 4) AS i`);
    const updates = ['1', '2', '3'].map((recordId) =>
      command({ entityId: randomUUID(), recordId, version: 2, fields: { name: `n${recordId}`, score: `${recordId}0`, vip: recordId === '2' } }),
    );
    const other = command({ entityId: randomUUID(), recordId: '4', version: 2, fields: { name: 'only the name' } });

    const { result: outcomes, statements } = await recordingStatements(() => applier.apply([...updates, other]));

    expect(outcomes.map((o) => [o.outcome, o.recordId, o.fields])).toEqual([
      ['applied', '1', { name: 'n1', score: 10, vip: false }],
      ['applied', '2', { name: 'n2', score: 20, vip: true }],
      ['applied', '3', { name: 'n3', score: 30, vip: false }],
      ['applied', '4', { name: 'only the name' }],
    ]);
    expect(await rows(pool)).toMatchObject([
      { id: '1', name: 'n1', score: 10, vip: false },
      { id: '2', name: 'n2', score: 20, vip: true },
      { id: '3', name: 'n3', score: 30, vip: false },
      { id: '4', name: 'only the name', score: null },
    ]);
    const applied = await pool.query<{ entity_id: string; record_id: string; version: string; command_id: string }>(
      'SELECT entity_id::text, record_id, version::text, command_id FROM tandem.applied',
    );
    expect(new Map(applied.rows.map((row) => [row.entity_id, [row.record_id, row.version, row.command_id]]))).toEqual(
      new Map([...updates, other].map((update) => [update.entityId, [update.recordId, '2', update.commandId]])),
    );
    const round = statements.map(({ text }) => text).filter((text) => text.includes('UPDATE "public"."contacts"'));
    expect(round).toHaveLength(1);
    expect(round[0]!.match(/UPDATE "public"\."contacts"/g)).toHaveLength(2);
  });

  it('fails alone the update of a missing record or of a value the column refuses, within a batch of updates', async () => {
    const { pool, applier } = await setup();
    await pool.query(`INSERT INTO contacts (email) SELECT 'p' || i || '@example.com' FROM generate_series(1, 3) AS i`);

    const outcomes = await applier.apply([
      command({ entityId: randomUUID(), recordId: '1', version: 2, fields: { score: '5' } }),
      command({ entityId: randomUUID(), recordId: '99', version: 2, fields: { score: '6' } }),
      command({ entityId: randomUUID(), recordId: '2', version: 2, fields: { score: 'lots' } }),
      command({ entityId: randomUUID(), recordId: '3', version: 2, fields: { score: '8' } }),
    ]);

    expect(outcomes.map((o) => [o.outcome, o.error?.code ?? null])).toEqual([
      ['applied', null],
      ['failed', 'record_missing'],
      ['failed', 'invalid_text_representation'],
      ['applied', null],
    ]);
    expect((await rows(pool)).map((row) => row['score'])).toEqual([5, null, 8]);
    expect((await pool.query('SELECT count(*)::int AS n FROM tandem.applied')).rows).toEqual([{ n: 2 }]);
  });

  it('creates rows one by one when the values read back differ from those sent', async () => {
    const { pool, applier } = await setup();
    const creates = [' 7', '8'].map((score, index) => command({ entityId: randomUUID(), fields: { email: `p${index}@example.com`, score } }));

    const outcomes = await applier.apply(creates);

    expect(outcomes.map((o) => [o.outcome, o.fields])).toEqual([
      ['applied', { email: 'p0@example.com', score: 7 }],
      ['applied', { email: 'p1@example.com', score: 8 }],
    ]);
    expect(await rows(pool)).toMatchObject([{ id: outcomes[0]!.recordId, score: 7 }, { id: outcomes[1]!.recordId, score: 8 }]);
    expect((await pool.query('SELECT count(*)::int AS n FROM tandem.applied')).rows).toEqual([{ n: 2 }]);
  });

  it('gives the same command twice one effect, within a batch and across batches', async () => {
    const { pool, applier } = await setup();
    const create = command({ entityId: randomUUID(), fields: { email: 'ada@example.com' } });

    const first = await applier.apply([create, create]);
    const again = await applier.apply([create]);

    expect(first.map((o) => o.outcome)).toEqual(['applied', 'stale']);
    expect(again).toEqual([{ commandId: create.commandId, recordId: '1', outcome: 'stale', fields: {}, error: null, position: null }]);
    expect(await rows(pool)).toHaveLength(1);
  });

  it('skips a command older than what is applied', async () => {
    const { pool, applier } = await setup();
    const entityId = randomUUID();
    await applier.apply([command({ entityId, version: 3, fields: { email: 'ada@example.com', name: 'new' } })]);

    const [outcome] = await applier.apply([command({ entityId, version: 2, fields: { name: 'old' } })]);

    expect(outcome).toMatchObject({ outcome: 'stale', recordId: '1', fields: {} });
    expect(await rows(pool)).toMatchObject([{ name: 'new' }]);
  });

  it('applies several commands for one entity in one batch in order', async () => {
    const { pool, applier } = await setup();
    const entityId = randomUUID();

    const outcomes = await applier.apply([
      command({ entityId, version: 1, fields: { email: 'ada@example.com', score: 1 } }),
      command({ entityId, version: 2, fields: { score: 2 } }),
      command({ entityId, version: 3, fields: { score: 3 } }),
    ]);

    expect(outcomes.map((o) => [o.outcome, o.recordId])).toEqual([
      ['applied', '1'],
      ['applied', '1'],
      ['applied', '1'],
    ]);
    expect(await rows(pool)).toMatchObject([{ id: '1', score: 3 }]);
  });

  it('deletes with the named record the one a create of the same batch made, so a re-create leaves one row', async () => {
    const { pool, applier } = await setup();
    const entityId = randomUUID();
    // A person's row the connector linked to the entity after Tandem had decided to create one here.
    const { rows: [person] } = await pool.query<{ id: string }>(`INSERT INTO contacts (email, name) VALUES ('ann@example.com', 'Ann') RETURNING id::text`);

    const outcomes = await applier.apply([
      command({ entityId, version: 1, fields: { email: 'ann.1@example.com' } }),
      command({ entityId, version: 2, operation: 'delete', recordId: person!.id }),
      command({ entityId, version: 3, fields: { email: 'ann.3@example.com' } }),
    ]);

    expect(outcomes.map((o) => o.outcome)).toEqual(['applied', 'applied', 'applied']);
    expect(outcomes[1]!.recordId).toBe(person!.id);
    expect(await rows(pool)).toMatchObject([{ id: outcomes[2]!.recordId, email: 'ann.3@example.com' }]);
  });

  it('deletes rows when no soft-delete column is configured', async () => {
    const { pool, applier } = await setup();
    const entityId = randomUUID();
    await applier.apply([command({ entityId, version: 1, fields: { email: 'ada@example.com' } })]);

    const [outcome] = await applier.apply([command({ entityId, version: 2, operation: 'delete' })]);
    const [missingAlready] = await applier.apply([command({ entityId, version: 3, operation: 'delete' })]);

    expect(outcome).toMatchObject({ outcome: 'applied', recordId: '1', error: null });
    expect(missingAlready).toMatchObject({ outcome: 'applied', recordId: '1' });
    expect(await rows(pool)).toEqual([]);
  });

  it('soft-deletes by stamping the configured column, keeping the first stamp', async () => {
    const { pool, applier } = await setup({ softDeleteColumn: 'deleted_at' });
    const entityId = randomUUID();
    await applier.apply([command({ entityId, version: 1, fields: { email: 'ada@example.com' } })]);

    await applier.apply([command({ entityId, version: 2, operation: 'delete' })]);
    const [firstStamp] = await rows(pool);
    await applier.apply([command({ entityId, version: 3, operation: 'delete' })]);

    expect(firstStamp!['deleted_at']).toBeInstanceOf(Date);
    expect(await rows(pool)).toEqual([firstStamp]);
  });

  it('fails only the commands that violate constraints or name unknown columns; the rest commit', async () => {
    const { pool, applier } = await setup();
    await pool.query(`INSERT INTO contacts (email) VALUES ('taken@example.com')`);

    const outcomes = await applier.apply([
      command({ entityId: randomUUID(), fields: { email: 'one@example.com' } }),
      command({ entityId: randomUUID(), fields: { name: 'no email' } }),
      command({ entityId: randomUUID(), fields: { email: 'taken@example.com' } }),
      command({ entityId: randomUUID(), fields: { email: 'x@example.com', nickname: 'x' } }),
      command({ entityId: randomUUID(), fields: { email: 'y@example.com', score: 'lots' } }),
      command({ entityId: randomUUID(), recordId: '999', fields: { name: 'ghost' } }),
      command({ entityId: randomUUID(), fields: { email: 'two@example.com' } }),
    ]);

    expect(outcomes.map((o) => [o.outcome, o.error?.code ?? null])).toEqual([
      ['applied', null],
      ['failed', 'not_null_violation'],
      ['failed', 'unique_violation'],
      ['failed', 'unknown_column'],
      ['failed', 'invalid_text_representation'],
      ['failed', 'record_missing'],
      ['applied', null],
    ]);
    expect(outcomes[1]!.error).toEqual({
      code: 'not_null_violation',
      message: expect.stringContaining('"email"'),
      retryable: false,
    });
    expect(outcomes[3]!.error!.message).toContain('nickname');
    expect((await rows(pool)).map((row) => row['email'])).toEqual([
      'taken@example.com',
      'one@example.com',
      'two@example.com',
    ]);
    const applied = await pool.query('SELECT count(*)::int AS n FROM tandem.applied');
    expect(applied.rows[0].n).toBe(2);
  });

  it('throws a retryable error when the database is unreachable', async () => {
    const pool = new Pool({ host: '127.0.0.1', port: await closedPort(), user: 'postgres', database: 'postgres' });
    cleanups.push(() => pool.end());
    const applier = new PostgresApplier({ pool, table: { table: 'contacts' } });

    const failure = await applier.apply([command({ entityId: randomUUID(), fields: { email: 'a' } })]).catch((e) => e);

    expect(failure).toBeInstanceOf(PostgresSystemError);
    expect(failure).toMatchObject({ code: PostgresSystemErrorCode.Unavailable, retryable: true });
    await expect(applier.install()).rejects.toMatchObject({ retryable: true });
  });

  it('commits nothing of a batch whose connection dies midway, and throws retryable', async () => {
    const { pool, applier } = await setup();
    // The server ends this very session when it sees the poison row, as a crash or failover would.
    await pool.query(`CREATE FUNCTION kill_session() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.email = 'poison' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
        RETURN NEW;
      END $$`);
    await pool.query('CREATE TRIGGER kill_session BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION kill_session()');

    const failure = await applier
      .apply([
        command({ entityId: randomUUID(), fields: { email: 'first@example.com' } }),
        command({ entityId: randomUUID(), fields: { email: 'poison' } }),
      ])
      .catch((e) => e);

    expect(failure).toMatchObject({ code: PostgresSystemErrorCode.Unavailable, retryable: true });
    expect(await rows(pool)).toEqual([]);
    expect((await pool.query('SELECT count(*)::int AS n FROM tandem.applied')).rows[0].n).toBe(0);
  });

  it('keeps its own writes out of the capture, and only its own', async () => {
    const { pool, applier } = await setup();
    const capture = new PostgresChangeCapture({
      pool,
      table: { table: 'contacts' },
      onListenerError: (error) => {
        throw error;
      },
    });
    cleanups.push(() => capture.close());
    await capture.install();
    const entityId = randomUUID();

    const [created] = await applier.apply([
      command({ entityId, version: 1, fields: { email: 'ada@example.com' } }),
      command({ entityId, version: 2, fields: { name: 'Ada' } }),
    ]);
    expect(await capture.readBatch(10)).toEqual([]);
    // The batch reports where the table's change order stood after its writes.
    expect(created!.position).toMatch(/^\d+$/);
    // The records it wrote are known as its entity's, for when someone else edits them.
    expect(await capture.entitiesWrittenByTandem([created!.recordId!])).toEqual(new Map([[created!.recordId!, entityId]]));

    await pool.query(`UPDATE contacts SET name = 'Ada L' WHERE id = $1`, [created!.recordId]);
    const changes = await capture.readBatch(10);
    expect(changes.map((c) => [c.operation, c.recordId, c.after?.['name']])).toEqual([['update', created!.recordId, 'Ada L']]);
    expect(BigInt(changes[0]!.sequence)).toBeGreaterThan(BigInt(created!.position!));
  });
});
