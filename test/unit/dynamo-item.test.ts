/**
 * The attribute-value marshalling of lambdas/adapters/dynamo-item.ts, used by the SDK-free DynamoDB calls
 * (upload sessions): DynamoDB's typed JSON as lib-dynamodb writes it for what this app stores (so items
 * written before read back the same), undefined members left out, and a round trip to the same value.
 */
import { describe, expect, it } from '@jest/globals';
import { fromItem, toItem } from '#adapters/dynamo-item.ts';

describe('DynamoDB attribute values', () => {
  const session = {
    uploadId: 'u1',
    size: 123_456_789,
    partSize: 8_388_608,
    status: 'uploading',
    done: false,
    note: null,
    parts: [1, 'two'],
    missing: undefined,
  };

  it('writes the typed shapes DynamoDB stores', () => {
    expect(toItem({ pk: 'upload#u1', session })).toEqual({
      pk: { S: 'upload#u1' },
      session: {
        M: {
          uploadId: { S: 'u1' },
          size: { N: '123456789' },
          partSize: { N: '8388608' },
          status: { S: 'uploading' },
          done: { BOOL: false },
          note: { NULL: true },
          parts: { L: [{ N: '1' }, { S: 'two' }] },
        },
      },
    });
  });

  it('reads back what it wrote', () => {
    const { missing: _, ...stored } = session;
    expect(fromItem(toItem({ session }))).toEqual({ session: stored });
  });

  it('refuses numbers DynamoDB cannot hold', () => {
    expect(() => toItem({ n: Number.NaN })).toThrow(/cannot store/);
  });
});
