import type { APIGatewayProxyEvent } from 'aws-lambda';

export function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined) result[name.toLowerCase()] = value;
  return result;
}

export function headerValue(
  headers: APIGatewayProxyEvent['headers'] | null,
  name: string,
): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {}))
    if (key.toLowerCase() === name) return value ?? undefined;
  return undefined;
}
