import { describe, expect, it } from '@jest/globals';
import { ident, insertValues, join, Sql, setValues, sql, where } from '#adapters/db/sql.ts';

describe('the sql template', () => {
  it('binds every value as a parameter, numbered in order, and splices fragments with their own values', () => {
    const owner = "x'; drop table videos; --";
    const status = sql`status = ${'ready'}`;
    const statement = sql`select * from videos where owner_id = ${owner} and ${status} limit ${10}`;
    expect(statement.compile()).toEqual({
      text: 'select * from videos where owner_id = $1 and status = $2 limit $3',
      values: [owner, 'ready', 10],
    });
  });

  it('numbers the values of fragments nested several deep and used twice', () => {
    const inner = sql`id = ${'a'}`;
    const middle = sql`(${inner} or ${inner}) and n > ${1}`;
    expect(sql`select ${2} where ${middle} and ${sql``}true`.compile()).toEqual({
      text: 'select $1 where (id = $2 or id = $3) and n > $4 and true',
      values: [2, 'a', 'a', 1],
    });
  });

  it('joins fragments with a separator, and nothing for none', () => {
    expect(join([sql`a = ${1}`, sql`b = ${2}`, sql`c`], sql` or `).compile()).toEqual({
      text: 'a = $1 or b = $2 or c',
      values: [1, 2],
    });
    expect(join([]).compile()).toEqual({ text: '', values: [] });
  });

  it('builds a where clause from the conditions that are present', () => {
    expect(where([sql`a = ${1}`, undefined, false, sql`b < ${2} or b is null`]).compile()).toEqual({
      text: 'where (a = $1) and (b < $2 or b is null)',
      values: [1, 2],
    });
    expect(where([undefined]).compile().text).toBe('');
  });

  it('writes an insert of the defined fields, inlining fragments such as now()', () => {
    expect(insertValues({ id: 'v', title: undefined, size: 3, seen_at: sql`now()` }).compile()).toEqual({
      text: '("id", "size", "seen_at") values ($1, $2, now())',
      values: ['v', 3],
    });
    expect(setValues({ title: 't', description: undefined, updated_at: sql`now()` }).compile()).toEqual({
      text: '"title" = $1, "updated_at" = now()',
      values: ['t'],
    });
    expect(() => setValues({ title: undefined })).toThrow('an update sets at least one column');
  });

  it('quotes only plain lower-case names as identifiers', () => {
    expect(ident('source_size').compile().text).toBe('"source_size"');
    for (const name of ['Videos', 'a"b', 'id; drop', '', '1a', 'a b'])
      expect(() => ident(name)).toThrow(TypeError);
    expect(() => insertValues({ 'title"; --': 1 })).toThrow(TypeError);
  });

  it('is a template tag only: a string passed as its first argument is refused, not run', () => {
    const call = sql as unknown as (text: string[]) => unknown;
    expect(() => call(['select 1'])).toThrow('sql is a template tag');
  });

  it('makes the only fragments there are: the class cannot be constructed from outside', () => {
    const forge = Sql as unknown as new (mint: symbol, parts: string[], values: unknown[]) => Sql;
    expect(() => new forge(Symbol('sql.ts'), ['drop table videos'], [])).toThrow(
      'SQL is made with the sql tag',
    );
  });
});
