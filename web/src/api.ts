import type * as z from 'zod';
import type {
  Delivery as DeliverySchema,
  Me as MeSchema,
  SignedParts as SignedPartsSchema,
  UploadCreated as UploadCreatedSchema,
  Upload as UploadSchema,
  VideoPage as VideoPageSchema,
  Video as VideoSchema,
  WebhookCreated as WebhookCreatedSchema,
  WebhookPage as WebhookPageSchema,
  Webhook as WebhookSchema,
} from '../../lambdas/api/schemas.ts';

/** The REST contract's shapes, inferred from the very schemas the API validates with (types only). */
export type Video = z.infer<typeof VideoSchema>;
export type VideoPage = z.infer<typeof VideoPageSchema>;
export type Me = z.infer<typeof MeSchema>;
export type UploadCreated = z.infer<typeof UploadCreatedSchema>;
export type Upload = z.infer<typeof UploadSchema>;
export type SignedParts = z.infer<typeof SignedPartsSchema>;
export type Visibility = Video['visibility'];
export type Webhook = z.infer<typeof WebhookSchema>;
export type WebhookCreated = z.infer<typeof WebhookCreatedSchema>;
export type WebhookPage = z.infer<typeof WebhookPageSchema>;
export type Delivery = z.infer<typeof DeliverySchema>;

interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: Array<{ path: string; message: string }>;
}

/** An API failure, with a sentence a person can read as its message (never raw JSON). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problem?: Problem,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function problemSentence(problem: Problem | undefined, status: number): string {
  const sentence = (text: string) => {
    const trimmed = text.trim();
    return !trimmed || /[.!?)]$/.test(trimmed) ? trimmed : `${trimmed}.`;
  };
  const base = problem?.detail || problem?.title;
  const fieldErrors = (problem?.errors ?? []).map(
    (e) => `${e.path.replace(/^body\.?/, '') || 'request'}: ${e.message}`,
  );
  if (base) return [sentence(base), ...fieldErrors.map(sentence)].join(' ');
  if (status === 0) return 'The server could not be reached. Check your connection and try again.';
  return `The server answered with an error (HTTP ${status}).`;
}

export interface ApiClient {
  request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
}

/**
 * Calls the API at `baseUrl` with the current access token. problem+json errors become ApiErrors whose
 * message is the problem's `detail` (or `title`); a 401 triggers one token refresh and a retry.
 */
export function createApiClient(
  baseUrl: string,
  auth: { token(): Promise<string | undefined>; refresh(): Promise<boolean> },
): ApiClient {
  async function attempt(method: string, path: string, body: unknown, signal?: AbortSignal) {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = await auth.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(problemSentence(undefined, 0), 0);
    }
  }
  return {
    async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
      let response = await attempt(method, path, body, signal);
      if (response.status === 401 && (await auth.refresh()))
        response = await attempt(method, path, body, signal);
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!response.ok) {
        const problem = typeof parsed === 'object' && parsed !== null ? (parsed as Problem) : undefined;
        throw new ApiError(problemSentence(problem, response.status), response.status, problem);
      }
      return parsed as T;
    },
  };
}

export const videoPath = (id: string) => `/v1/videos/${encodeURIComponent(id)}`;
export const uploadPath = (id: string) => `/v1/uploads/${encodeURIComponent(id)}`;
