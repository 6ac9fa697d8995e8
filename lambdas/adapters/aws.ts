import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { config } from '#shared/config.ts';

/**
 * AWS SDK clients, built once per container and shared by every adapter (the DynamoDB client serves
 * Powertools idempotency; the API's DynamoDB, SQS and Secrets Manager calls go over aws-json.ts). An
 * endpoint override is set only when config points at a local stand-in (s3rver, dynalite).
 */
let s3: S3Client | undefined;
let presigner: S3Client | undefined;
let dynamoRaw: DynamoDBClient | undefined;

function s3Options() {
  const { region, s3Endpoint } = config();
  return {
    region,
    ...(s3Endpoint ? { endpoint: s3Endpoint, forcePathStyle: true } : {}),
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
  };
}

export function s3Client(): S3Client {
  s3 ??= new S3Client(s3Options());
  return s3;
}

/**
 * The client that presigns browser upload URLs. With the SDK default (WHEN_SUPPORTED) it would sign a
 * CRC32 of an empty body into every UploadPart URL and real S3 would reject the browser's PUTs.
 */
export function presigningS3Client(): S3Client {
  presigner ??= new S3Client({ ...s3Options(), requestChecksumCalculation: 'WHEN_REQUIRED' });
  return presigner;
}

export function dynamoClient(): DynamoDBClient {
  const { region, dynamodbEndpoint } = config();
  dynamoRaw ??= new DynamoDBClient({ region, ...(dynamodbEndpoint ? { endpoint: dynamodbEndpoint } : {}) });
  return dynamoRaw;
}
