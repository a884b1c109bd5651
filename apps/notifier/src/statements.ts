import pg from 'pg';

// Several statements in one round trip to Postgres (the simple query protocol runs them
// in order and answers them together). A chunk's transaction is two such trips: what it
// reads, then what it writes with the COMMIT. Values go in as one JSON literal each,
// escaped by pg, never spliced into the SQL text as they are.

/** `'<json>'::json`: a value as a literal the statement unpacks (json_to_recordset …). */
export const jsonLiteral = (value: unknown) => `${pg.escapeLiteral(JSON.stringify(value))}::json`;

/** `(SELECT … FROM json_array_elements_text(…))`: a list of values as a set of `type`. */
export const listLiteral = (values: readonly string[], type: string) =>
  `(SELECT v::${type} FROM json_array_elements_text(${jsonLiteral(values)}) AS v)`;

/** Statements of one round trip; `add` returns the index of its result. */
export class Statements {
  private readonly sql: string[] = [];

  add(statement: string): number {
    this.sql.push(statement);
    return this.sql.length - 1;
  }

  async run(db: pg.ClientBase | pg.Pool): Promise<pg.QueryResult[]> {
    if (this.sql.length === 0) return [];
    const results = (await db.query(this.sql.join(';\n'))) as unknown as
      pg.QueryResult | pg.QueryResult[];
    return Array.isArray(results) ? results : [results];
  }
}
