/** Anything that runs SQL: a DataSource or a transaction's EntityManager. */
interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * The rows an UPDATE or DELETE … RETURNING changed. TypeORM answers such statements with
 * `[rows, count]` rather than the rows, so the statement is run inside a CTE and selected from.
 */
export async function changedRows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query(`WITH changed AS (${sql}) SELECT * FROM changed`, params)) as T[];
}
