import httpJsonBodyParser from '@middy/http-json-body-parser';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '#core/errors.ts';
import { callState, type HttpMiddyRequest, middleware } from './types.ts';

/** JSON bodies above this are refused before parsing; the API never carries media bytes. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

const JSON_CONTENT_TYPE = /^application\/([a-z.+-]*\+)?json\s*(;|$)/i;

/**
 * The request body as JSON, for routes with a body schema: @middy/http-json-body-parser does the parse
 * (with its prototype-key guard), and its errors become our problems: 413 above MAX_JSON_BODY_BYTES,
 * 415 for anything but JSON, 400 for what does not parse. An empty body reads as `{}`.
 */
export function jsonBody() {
  const parser = httpJsonBodyParser({ disableContentTypeCheck: true });
  const before = (request: HttpMiddyRequest) => {
    const event = request.event;
    const raw = event.body
      ? event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body
      : '';
    if (Buffer.byteLength(raw) > MAX_JSON_BODY_BYTES) {
      throw new PayloadTooLargeError(`Request bodies are limited to ${MAX_JSON_BODY_BYTES} bytes`);
    }
    if (raw.trim() === '') {
      (event as { body: unknown }).body = {};
      return;
    }
    if (!JSON_CONTENT_TYPE.test(callState(request).headers['content-type'] ?? '')) {
      throw new UnsupportedMediaTypeError('Send the request body as application/json');
    }
    try {
      parser.before?.(request as never);
    } catch (error) {
      const cause = (error as { cause?: { data?: unknown } }).cause;
      if ((error as Error).message === 'Forbidden key in JSON body') {
        throw new ValidationError('The request body is invalid', {
          errors: [{ path: 'body', message: `unknown field(s): ${String(cause?.data)}` }],
        });
      }
      throw new ValidationError('The request body is not valid JSON');
    }
  };
  return middleware({ before });
}
