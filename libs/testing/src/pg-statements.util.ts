import { Client } from 'pg';

/** A statement a node-postgres client sent, with its parameters. */
export interface SentStatement {
  text: string;
  values: unknown[];
}

/** Runs `work`, recording every statement node-postgres clients send meanwhile. */
export async function recordingStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: SentStatement[] }> {
  const query = jest.spyOn(Client.prototype, 'query');
  try {
    const result = await work();
    // A statement comes as its text and values, or as one object (a prepared statement's name with them).
    const statements = query.mock.calls.flatMap(([sent, values]): SentStatement[] => {
      if (typeof sent === 'string') return [{ text: sent, values: Array.isArray(values) ? values : [] }];
      const config = sent as { text?: unknown; values?: unknown };
      return typeof config.text === 'string' ? [{ text: config.text, values: Array.isArray(config.values) ? config.values : [] }] : [];
    });
    return { result, statements };
  } finally {
    query.mockRestore();
  }
}

export interface PlanShape {
  nodeTypes: string[];
  indexNames: string[];
}

/** The node types and indexes of the plan PostgreSQL would choose for a statement now. */
export async function planOf(db: { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> }, { text, values }: SentStatement): Promise<PlanShape> {
  const { rows } = await db.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
  const shape: PlanShape = { nodeTypes: [], indexNames: [] };
  const visit = (node: { 'Node Type': string; 'Index Name'?: string; Plans?: unknown[] }): void => {
    shape.nodeTypes.push(node['Node Type']);
    if (node['Index Name'] !== undefined) shape.indexNames.push(node['Index Name']);
    for (const child of node.Plans ?? []) visit(child as Parameters<typeof visit>[0]);
  };
  const [explained] = rows as Array<{ 'QUERY PLAN': Array<{ Plan: Parameters<typeof visit>[0] }> }>;
  for (const { Plan } of explained?.['QUERY PLAN'] ?? []) visit(Plan);
  return shape;
}
