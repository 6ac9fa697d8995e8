import { parseWebConfig, type WebConfig } from '../../lambdas/shared/web-config.ts';
import { createApiClient, type Me } from './api.ts';
import { type AppContext, canUpload, errorMessage, link, type View } from './app.ts';
import { createAuth } from './auth.ts';
import { h, replace } from './dom.ts';
import './styles.css';
import { browseView } from './views/browse.ts';
import { myVideosView } from './views/my-videos.ts';
import { signInView } from './views/sign-in.ts';
import { uploadView } from './views/upload.ts';
import { watchView } from './views/watch.ts';
import { webhooksView } from './views/webhooks.ts';

/**
 * VideoCloud's browser client: a few views over the REST API, no framework. Settings come from
 * `/config.json` (API base URL and how to sign in), so the same build runs locally and in the cloud.
 */
const routes: Array<{ pattern: RegExp; view: View; title: string }> = [
  { pattern: /^\/$/, view: browseView, title: 'Videos' },
  { pattern: /^\/signin$/, view: signInView, title: 'Sign in' },
  { pattern: /^\/upload$/, view: uploadView, title: 'Upload' },
  { pattern: /^\/me$/, view: myVideosView, title: 'My videos' },
  { pattern: /^\/webhooks$/, view: webhooksView, title: 'Webhooks' },
  { pattern: /^\/videos\/(?<id>[^/]+)$/, view: watchView, title: 'Watch' },
];

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  let config: WebConfig;
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`config.json answered HTTP ${response.status}`);
    config = parseWebConfig(await response.json());
  } catch (error) {
    replace(
      root,
      h('p', { role: 'alert', class: 'error' }, `VideoCloud could not start: ${errorMessage(error)}`),
    );
    return;
  }

  const auth = createAuth(config);
  const api = createApiClient(config.apiBaseUrl, auth);
  let me: Me | undefined;
  let leaving: Array<() => void> = [];

  const nav = h('nav', { 'aria-label': 'Main' });
  const alert = h('div', { class: 'alert', role: 'alert', hidden: true });
  const status = h('div', { class: 'notice', role: 'status' });
  const main = h('main', { id: 'main' });
  replace(
    root,
    h('a', { href: '#main', class: 'skip-link' }, 'Skip to content'),
    h(
      'header',
      { class: 'top' },
      h('a', { href: '/', 'data-link': true, class: 'brand' }, 'VideoCloud'),
      nav,
    ),
    alert,
    status,
    main,
  );

  const ctx: AppContext = {
    config,
    api,
    auth,
    me: () => me,
    navigate(path) {
      history.pushState(null, '', path);
      void render();
    },
    error(message) {
      alert.hidden = false;
      replace(
        alert,
        h('span', {}, message),
        h(
          'button',
          { type: 'button', class: 'dismiss', 'aria-label': 'Dismiss message', onclick: clearAlert },
          '×',
        ),
      );
    },
    notice(message) {
      status.textContent = message;
    },
    onLeave(cleanup) {
      leaving.push(cleanup);
    },
  };
  function clearAlert() {
    alert.hidden = true;
    alert.replaceChildren();
  }

  async function loadMe() {
    me = undefined;
    if (!auth.username()) return;
    try {
      me = await api.request<Me>('GET', '/v1/me');
    } catch (error) {
      ctx.error(errorMessage(error));
    }
  }

  function renderNav() {
    const signedIn = Boolean(me);
    const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out');
    signOut.addEventListener('click', () => auth.signOut());
    replace(
      nav,
      h(
        'ul',
        {},
        h('li', {}, link('/', 'Videos')),
        canUpload(me) ? h('li', {}, link('/upload', 'Upload')) : null,
        signedIn ? h('li', {}, link('/me', 'My videos')) : null,
        canUpload(me) ? h('li', {}, link('/webhooks', 'Webhooks')) : null,
        signedIn
          ? h(
              'li',
              { class: 'who' },
              h('span', {}, `Signed in as ${me!.username} (${me!.roles.join(', ') || 'viewer'})`),
              signOut,
            )
          : h('li', {}, link('/signin', 'Sign in')),
      ),
    );
    for (const anchor of nav.querySelectorAll('a')) {
      if (anchor.getAttribute('href') === location.pathname) anchor.setAttribute('aria-current', 'page');
    }
  }

  let meLoading: Promise<void> = Promise.resolve();
  let rendering = 0;
  async function render() {
    const ticket = ++rendering;
    status.textContent = '';
    await meLoading;
    if (ticket !== rendering) return;
    for (const cleanup of leaving) cleanup();
    leaving = [];
    clearAlert();
    const match = routes
      .map((route) => ({ route, m: route.pattern.exec(location.pathname) }))
      .find((candidate) => candidate.m);
    renderNav();
    main.replaceChildren();
    if (!match) {
      document.title = 'Not found · VideoCloud';
      main.append(h('h1', { tabindex: '-1' }, 'Page not found'), h('p', {}, link('/', 'Go to the videos')));
    } else {
      document.title = `${match.route.title} · VideoCloud`;
      try {
        await match.route.view(ctx, main, { ...match.m!.groups });
      } catch (error) {
        if (ticket === rendering) ctx.error(errorMessage(error));
      }
    }
    if (ticket === rendering) main.querySelector<HTMLElement>('h1')?.focus({ preventScroll: false });
  }

  document.addEventListener('click', (event) => {
    const anchor = (event.target as Element | null)?.closest?.('a[data-link]');
    if (
      !anchor ||
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey
    )
      return;
    event.preventDefault();
    ctx.navigate(anchor.getAttribute('href')!);
  });
  window.addEventListener('popstate', () => void render());
  auth.onChange(() => {
    meLoading = loadMe();
    void meLoading.then(() => {
      if (auth.username()) return renderNav();
      if (location.pathname !== '/') ctx.navigate('/');
      else renderNav();
      ctx.notice('Signed out.');
    });
  });

  try {
    await auth.completeRedirect();
  } catch (error) {
    ctx.error(errorMessage(error));
  }
  meLoading = loadMe();
  await render();
}

void start();
