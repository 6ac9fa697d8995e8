/**
 * DynamoDB's typed attribute values (`{ "S": "..." }`, `{ "N": "1" }`, maps, lists) to and from plain
 * values, for the calls made over aws-json.ts: what lib-dynamodb's marshalling does for the values this
 * app stores (strings, finite numbers, booleans, null, maps and lists; undefined members are left out).
 */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { M: Record<string, AttributeValue> }
  | { L: AttributeValue[] };

export type Plain = string | number | boolean | null | Plain[] | { [name: string]: Plain | undefined };

export function toAttribute(value: Plain): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'boolean') return { BOOL: value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`DynamoDB cannot store the number ${value}`);
    return { N: String(value) };
  }
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  return { M: toItem(value) };
}

/** A map of attributes, undefined members left out. */
export function toItem(values: { [name: string]: Plain | undefined }): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(values))
    if (value !== undefined) item[name] = toAttribute(value);
  return item;
}

export function fromAttribute(attribute: AttributeValue): Plain {
  if ('S' in attribute) return attribute.S;
  if ('N' in attribute) return Number(attribute.N);
  if ('BOOL' in attribute) return attribute.BOOL;
  if ('NULL' in attribute) return null;
  if ('L' in attribute) return attribute.L.map(fromAttribute);
  if ('M' in attribute) return fromItem(attribute.M);
  throw new Error(`unexpected DynamoDB attribute type ${Object.keys(attribute).join(',')}`);
}

export function fromItem(item: Record<string, AttributeValue>): { [name: string]: Plain } {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, fromAttribute(value)]));
}
