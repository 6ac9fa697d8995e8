import type { Keyset } from '#core/pagination.ts';

/**
 * SQL for the repositories: statements written as they run, with every value bound as a parameter.
 *
 * `sql` is a template tag: the literal text is the statement, each `${value}` becomes `$n` with the value
 * beside it, and a `${fragment}` made by `sql` itself is spliced in with its own values. Nothing else
 * becomes SQL text, so no string from a request can ever be read as SQL. Identifiers are written in the
 * text; `ident` quotes one our code names (a column of a typed row), never one from input.
 *
 * Why not the query builder (Kysely, which the migrations still use): it is 160 KB of every API
 * function's bundle, 42% of it, and issue 14 holds each to 250 KB (test/unit/bundle-size.test.ts).
 */
// Held by this module only: no code elsewhere can make a fragment but through `sql` (or `ident`).
const MINT = Symbol('sql.ts');

export class Sql {
  readonly parts: readonly string[];
  readonly values: readonly unknown[];

  /** `parts.length === values.length + 1`: text, value, text, ..., text. Made by `fragment` below. */
  constructor(mint: typeof MINT, parts: readonly string[], values: readonly unknown[]) {
    if (mint !== MINT) throw new TypeError('SQL is made with the sql tag: write sql`...`');
    this.parts = parts;
    this.values = values;
  }

  /** The statement as the driver takes it: `$1`, `$2`... and the values in that order. */
  compile(): { text: string; values: unknown[] } {
    let text = this.parts[0]!;
    for (let at = 1; at < this.parts.length; at++) text += `$${at}${this.parts[at]}`;
    return { text, values: [...this.values] };
  }
}

/** Text and values into a fragment, splicing the fragments among the values. */
function fragment(strings: readonly string[], values: readonly unknown[]): Sql {
  const parts = [strings[0]!];
  const bound: unknown[] = [];
  values.forEach((value, at) => {
    if (value instanceof Sql) {
      parts[parts.length - 1] += value.parts[0]!;
      value.values.forEach((inner, index) => {
        bound.push(inner);
        parts.push(value.parts[index + 1]!);
      });
      parts[parts.length - 1] += strings[at + 1]!;
    } else {
      bound.push(value);
      parts.push(strings[at + 1]!);
    }
  });
  return new Sql(MINT, parts, bound);
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  if (!Array.isArray(strings.raw)) throw new TypeError('sql is a template tag: write sql`...`');
  return fragment(strings, values);
}

/** `fragments` one after another with `separator` between them (empty for none). */
export function join(fragments: readonly Sql[], separator: Sql = sql`, `): Sql {
  const values: Sql[] = [];
  fragments.forEach((part, at) => {
    if (at > 0) values.push(separator);
    values.push(part);
  });
  return fragment(['', ...values.map(() => '')], values);
}

/**
 * `where (a) and (b) ...` for the conditions given (none: no where clause). Each is parenthesized, so a
 * condition with an `or` in it stays one condition.
 */
export function where(conditions: ReadonlyArray<Sql | false | undefined>): Sql {
  const present = conditions.filter((condition): condition is Sql => condition instanceof Sql);
  return present.length
    ? sql`where ${join(
        present.map((condition) => sql`(${condition})`),
        sql` and `,
      )}`
    : sql``;
}

/**
 * A keyset page's condition in newest-first order (`order by created_at desc, id desc`): the rows after
 * `after`, the last row of the previous page (none: from the start).
 */
export function olderThan(after: Keyset | undefined): Sql | undefined {
  return after && sql`(created_at, id) < (${after.createdAt}, ${after.id})`;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** A column or table our code names, quoted; anything but a plain lower-case name is refused. */
export function ident(name: string): Sql {
  if (!IDENTIFIER.test(name)) throw new TypeError(`not an identifier: ${JSON.stringify(name)}`);
  return fragment([`"${name}"`], []);
}

/** `(a, b) values ($1, $2)` for an insert of `row`'s defined fields (undefined ones take the default). */
export function insertValues(row: Readonly<Record<string, unknown>>): Sql {
  const entries = Object.entries(row).filter(([, value]) => value !== undefined);
  return sql`(${join(entries.map(([column]) => ident(column)))}) values (${join(
    entries.map(([, value]) => (value instanceof Sql ? value : sql`${value}`)),
  )})`;
}

/** `a = $1, b = $2` for an update of `changes`' defined fields. */
export function setValues(changes: Readonly<Record<string, unknown>>): Sql {
  const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
  if (entries.length === 0) throw new TypeError('an update sets at least one column');
  return join(entries.map(([column, value]) => sql`${ident(column)} = ${value}`));
}

/** What the repositories run statements on: the database, or one transaction of it. */
export interface Db {
  /** Every row the statement returns. */
  all<Row>(statement: Sql): Promise<Row[]>;
  /** The first row, or undefined when there is none. */
  first<Row>(statement: Sql): Promise<Row | undefined>;
  /** How many rows the statement inserted, updated or deleted. */
  run(statement: Sql): Promise<number>;
  /**
   * `work` in one transaction: committed when it resolves; rolled back, and failed, when it throws or when
   * one of its statements failed (even if the work caught that error).
   */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
}

/** Runs one compiled statement: its rows and how many rows it changed. */
export type Execute = (text: string, values: unknown[]) => Promise<{ rows: unknown[]; count: number }>;

/**
 * A `Db` over a way to run statements and a way to open a transaction (connection.ts supplies both, for
 * a pg pool and for PGlite). A transaction's own `transaction` refuses: nesting would silently commit
 * the inner work with the outer.
 */
export function dbOver(
  execute: Execute,
  begin?: <T>(work: (execute: Execute) => Promise<T>) => Promise<T>,
): Db {
  const run = (statement: Sql) => {
    const { text, values } = statement.compile();
    return execute(text, values);
  };
  return {
    all: async <Row>(statement: Sql) => (await run(statement)).rows as Row[],
    first: async <Row>(statement: Sql) => (await run(statement)).rows[0] as Row | undefined,
    run: async (statement) => (await run(statement)).count,
    transaction: (work) => {
      if (!begin)
        return Promise.reject(new Error('already in a transaction: pass the transaction on instead'));
      return begin(async (inner) => {
        // A failed statement aborts the transaction; should the work catch its error and go on, Postgres
        // would answer the commit with a rollback, not an error. So the work fails, and nothing is kept.
        let failed: unknown;
        const watched: Execute = (text, values) =>
          inner(text, values).catch((error: unknown) => {
            failed ??= error;
            throw error;
          });
        const result = await work(dbOver(watched));
        if (failed)
          throw new Error('the transaction was rolled back: a statement in it failed', { cause: failed });
        return result;
      });
    },
  };
}
