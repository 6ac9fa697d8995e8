import type { WebConfig } from '../../lambdas/shared/web-config.ts';
import type { ApiClient, Me } from './api.ts';
import type { Auth } from './auth.ts';
import { h } from './dom.ts';

/** What every view gets: the API, auth, navigation, and where to show messages. */
export interface AppContext {
  config: WebConfig;
  api: ApiClient;
  auth: Auth;
  /** The signed-in caller (from GET /v1/me), or undefined when anonymous. */
  me(): Me | undefined;
  navigate(path: string): void;
  /** Shows an error sentence in the page's alert region. */
  error(message: string): void;
  /** Shows a status sentence (announced politely). */
  notice(message: string): void;
  /** Registers cleanup to run when the view is left (timers, players, uploads). */
  onLeave(cleanup: () => void): void;
}

export type View = (
  ctx: AppContext,
  main: HTMLElement,
  params: Record<string, string>,
) => void | Promise<void>;

export const link = (href: string, text: string, attributes: Record<string, string> = {}) =>
  h('a', { href, 'data-link': true, ...attributes }, text);

export const heading = (text: string) => h('h1', { tabindex: '-1' }, text);

export const canUpload = (me: Me | undefined) =>
  Boolean(me && (me.roles.includes('creator') || me.roles.includes('admin')));

export const STATUS_LABELS: Record<string, string> = {
  uploading: 'Uploading',
  processing: 'Processing',
  ready: 'Ready',
  failed: 'Failed',
};

export const VISIBILITY_LABELS: Record<string, string> = {
  public: 'Public',
  unlisted: 'Unlisted',
  private: 'Private',
};

export function visibilitySelect(id: string, value: string): HTMLSelectElement {
  const select = h('select', { id, name: 'visibility' });
  for (const [option, label] of Object.entries(VISIBILITY_LABELS)) {
    select.append(h('option', { value: option, selected: option === value }, label));
  }
  return select;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error && error.message ? error.message : 'Something went wrong.';
}
