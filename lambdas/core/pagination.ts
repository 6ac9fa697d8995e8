import { ValidationError } from './errors.ts';

/** A keyset position: the last row of the previous page, in the listing's (created_at desc, id desc) order. */
export interface Keyset {
  createdAt: Date;
  id: string;
}

/** Cursors are opaque to clients: base64url JSON of the position, validated on the way back in. */
export function encodeCursor(position: Keyset): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Keyset {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(createdAt));
    if (
      typeof createdAt !== 'string' ||
      Number.isNaN(date.getTime()) ||
      // JavaScript dates reach 271,821 BC; Postgres timestamps only 4713 BC, and nothing we issue is
      // older than 1970 or later than 9999. Anything outside is no cursor of ours (400, not a 500).
      date.getUTCFullYear() < 1970 ||
      date.getUTCFullYear() > 9999 ||
      typeof id !== 'string' ||
      !UUID.test(id)
    ) {
      throw new Error('bad shape');
    }
    return { createdAt: date, id };
  } catch {
    throw new ValidationError('The cursor is not one this API issued', {
      errors: [{ path: 'query.cursor', message: 'invalid cursor' }],
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Repositories fetch limit + 1 rows; the extra row only says whether another page exists. */
export function toPage<T extends Keyset>(
  rows: T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
