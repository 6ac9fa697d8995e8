import type { S3rverContext, S3rverMiddleware } from 's3rver';
import {
  LOCAL_REGION,
  type LocalCredentials,
  SigV4Failure,
  type SigV4FailureCode,
  verifySigV4Request,
} from '../sigv4.ts';
import { S3Error } from './errors.ts';

/**
 * SigV4 verification for s3rver, which checks only the access key id and expiry of a signed request
 * ("Signature version 4 calculation is unimplemeneted") and lets anonymous requests through. Here every
 * request but a CORS preflight must be signed with the runtime's own credentials, presigned (query) or
 * header-signed (the SDK's own calls), or it is refused with 403 in S3's XML error shape, before s3rver
 * sees it. So a presigned UploadPart URL works for that part of that upload only, and nobody who can
 * reach the port can list, read, overwrite or delete objects without the key.
 *
 * Payload: presigned URLs carry UNSIGNED-PAYLOAD (as with S3); for header-signed requests the declared
 * `x-amz-content-sha256` is signed, and `verifyPayloadHash` (payload.ts) then compares it with the body.
 */
export function verifySigV4(credentials: LocalCredentials): S3rverMiddleware {
  return async (ctx, next) => {
    // A CORS preflight is never signed (browsers cannot); s3rver answers it from the bucket's CORS rules.
    if (ctx.method === 'OPTIONS') return next();
    try {
      const verified = verifySigV4Request(
        {
          method: ctx.method,
          path: ctx.path,
          querystring: ctx.querystring,
          header: (name) => ctx.get(name),
          headerNames: Object.keys(ctx.headers),
        },
        { credentials, service: 's3', region: LOCAL_REGION },
      );
      if (!verified.presigned) setSignedPayloadHash(ctx, verified.payloadHash);
    } catch (error) {
      if (error instanceof SigV4Failure) throw toS3Error(error);
      throw error;
    }
    return next();
  };
}

/** The payload hash a header-signed request declared (and had signed), for the payload check. */
export function signedPayloadHash(ctx: S3rverContext): string | undefined {
  const hash = ctx.state.signedPayloadHash;
  return typeof hash === 'string' ? hash : undefined;
}

function setSignedPayloadHash(ctx: S3rverContext, hash: string): void {
  ctx.state.signedPayloadHash = hash;
}

const S3_CODES: Record<SigV4FailureCode, string> = {
  MissingAuthentication: 'AccessDenied',
  TwoMechanisms: 'InvalidArgument',
  Malformed: 'AuthorizationQueryParametersError',
  InvalidAccessKeyId: 'InvalidAccessKeyId',
  WrongScope: 'AuthorizationHeaderMalformed',
  Expired: 'AccessDenied',
  TimeTooSkewed: 'RequestTimeTooSkewed',
  MissingPayloadHash: 'InvalidRequest',
  HeadersNotSigned: 'AccessDenied',
  InvalidUri: 'InvalidURI',
  SignatureDoesNotMatch: 'SignatureDoesNotMatch',
};

/**
 * S3's error codes and messages; the status is 403 for every authentication failure (S3 itself answers a
 * few malformed-signature cases with 400), so "no valid signature" always reads the same. A path that is
 * not valid percent-encoding is S3's 400 InvalidURI.
 */
function toS3Error(failure: SigV4Failure): S3Error {
  const error = new S3Error(S3_CODES[failure.code], failure.message, failure.detail);
  error.status = failure.code === 'InvalidUri' ? 400 : 403;
  return error;
}
