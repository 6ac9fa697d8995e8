/**
 * Object keys in S3 event notifications are URL-encoded the way HTML forms are: a space becomes '+', a
 * literal '+' becomes '%2B', non-ASCII is percent-encoded UTF-8, and '/' stays as it is. Every consumer of
 * S3 events must decode the key before using it, or a key with a space or a '+' names a missing object.
 */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * The encoding S3 applies to keys in event records (the inverse of `decodeS3Key`), for stand-ins that emit
 * such events. S3's backend encodes like Java's URLEncoder (only A-Z a-z 0-9 and `.-*_` are left as they
 * are), except that '/' is kept.
 */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()~]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%20/g, '+'),
    )
    .join('/');
}
