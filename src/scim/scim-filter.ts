/** The SQL column behind a SCIM attribute, for attributes whose `eq` is the column's `=`. */
export interface FilterColumn {
  column: string;
  /** A uuid column: a value that is not a lowercase uuid can match nothing (and must not reach a cast). */
  uuid?: boolean;
}

export interface SqlFilter {
  where: string;
  params: string[];
}

/** A parsed scimmy filter: branches joined by `or`, each an object of attribute → expression(s) joined by `and`. */
export type ParsedFilter = ReadonlyArray<Readonly<Record<string, unknown>>>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The filters identity providers send before every create or update (`userName eq "…"`,
 * `externalId eq "…"`, and `and`/`or` of such) as a WHERE clause on the given columns, with
 * parameters numbered from `$firstParam`; null for any other filter, which the caller then matches
 * in memory with scimmy. Only `eq` with a string value is translated, and scimmy's `eq` is exact
 * (case included), as `=` is: the clause finds what scimmy's match would, no more and no less.
 */
export function sqlFilter(
  filter: ParsedFilter,
  columns: Readonly<Record<string, FilterColumn>>,
  firstParam = 1,
): SqlFilter | null {
  const byName = new Map(Object.entries(columns).map(([name, column]) => [name.toLowerCase(), column]));
  const params: string[] = [];
  const branches: string[] = [];
  if (filter.length === 0) return null;
  for (const branch of filter) {
    const terms: string[] = [];
    for (const [attribute, expressions] of Object.entries(branch)) {
      const column = byName.get(attribute.toLowerCase());
      if (!column || !Array.isArray(expressions)) return null;
      const list: unknown[] = expressions.every(Array.isArray) ? expressions : [expressions];
      for (const expression of list) {
        if (!Array.isArray(expression) || expression.length !== 2) return null;
        const [comparator, value] = expression as unknown[];
        if (typeof comparator !== 'string' || comparator.toLowerCase() !== 'eq' || typeof value !== 'string')
          return null;
        if (column.uuid && !UUID.test(value)) {
          terms.push('FALSE');
          continue;
        }
        params.push(value);
        terms.push(`${column.column} = $${firstParam + params.length - 1}${column.uuid ? '::uuid' : ''}`);
      }
    }
    if (terms.length === 0) return null;
    branches.push(`(${terms.join(' AND ')})`);
  }
  return { where: branches.length === 1 ? branches[0] : `(${branches.join(' OR ')})`, params };
}
