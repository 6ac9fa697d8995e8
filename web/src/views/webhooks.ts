import type { Delivery, Webhook, WebhookCreated, WebhookPage } from '../api.ts';
import { type AppContext, errorMessage, heading, type View } from '../app.ts';
import { field, h, replace } from '../dom.ts';

const webhookPath = (id: string) => `/v1/webhooks/${encodeURIComponent(id)}`;

/**
 * Webhooks: add an endpoint (its signing secret is shown once, right after), list them, send a test
 * event, remove one, and see each endpoint's recent deliveries (status, attempts, last answer).
 */
export const webhooksView: View = (ctx, main) => {
  const list = h('div', { class: 'webhooks' });
  const secretBox = h('div', { class: 'secret', role: 'status', hidden: true });
  const url = h('input', {
    type: 'url',
    name: 'url',
    required: true,
    placeholder: 'https://example.com/hooks',
  });
  const description = h('input', { type: 'text', name: 'description', maxlength: 500 });
  const formError = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'add-webhook', 'aria-label': 'Add a webhook endpoint' },
    field('Endpoint URL', url, 'Deliveries are POSTed here, signed (Standard Webhooks)'),
    field('Description', description),
    formError,
    h('button', { type: 'submit', class: 'primary' }, 'Add endpoint'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formError.textContent = '';
    try {
      const created = await ctx.api.request<WebhookCreated>('POST', '/v1/webhooks', {
        url: url.value,
        ...(description.value ? { description: description.value } : {}),
      });
      form.reset();
      showSecret(created.url, created.secret);
      await refresh();
    } catch (error) {
      formError.textContent = errorMessage(error);
    }
  });
  main.append(
    heading('Webhooks'),
    h(
      'p',
      { class: 'muted' },
      'Endpoints receive events of your videos (an admin’s: of every video): created, processing, ready, failed, updated, deleted.',
    ),
    form,
    secretBox,
    list,
  );

  function showSecret(endpointUrl: string, secret: string) {
    secretBox.hidden = false;
    replace(
      secretBox,
      h('p', {}, `Signing secret for ${endpointUrl}. It is shown only now: copy it to your receiver.`),
      h('code', { class: 'secret-value' }, secret),
    );
  }

  async function refresh() {
    let page: WebhookPage;
    try {
      page = await ctx.api.request<WebhookPage>('GET', '/v1/webhooks?limit=100');
    } catch (error) {
      ctx.error(errorMessage(error));
      return;
    }
    if (page.items.length === 0) {
      replace(list, h('p', { class: 'muted' }, 'No endpoints yet.'));
      return;
    }
    replace(
      list,
      page.items.map((webhook) => endpointCard(ctx, webhook, refresh)),
    );
  }

  void refresh();
};

function endpointCard(ctx: AppContext, webhook: Webhook, refresh: () => Promise<void>): HTMLElement {
  const deliveries = h('div', { class: 'deliveries' });
  const act = (label: string, run: () => Promise<void>, danger = false) =>
    h(
      'button',
      {
        type: 'button',
        class: danger ? 'danger' : '',
        'aria-label': `${label}: ${webhook.url}`,
        onclick: async () => {
          try {
            await run();
          } catch (error) {
            ctx.error(errorMessage(error));
          }
        },
      },
      label,
    );
  const showDeliveries = async () => {
    const page = await ctx.api.request<{ items: Delivery[] }>(
      'GET',
      `${webhookPath(webhook.id)}/deliveries?limit=20`,
    );
    replace(deliveries, deliveryTable(page.items));
  };
  return h(
    'section',
    { class: 'webhook', 'data-webhook-id': webhook.id },
    h('h2', {}, webhook.url),
    webhook.description ? h('p', {}, webhook.description) : null,
    h(
      'p',
      { class: 'muted' },
      webhook.enabled ? 'Enabled' : `Disabled (${webhook.disabledReason ?? 'by its owner'})`,
      ` · ${webhook.events.length} event types`,
    ),
    h(
      'div',
      { class: 'actions' },
      act('Send test event', async () => {
        await ctx.api.request('POST', `${webhookPath(webhook.id)}/test`);
        ctx.notice('Test event sent.');
        await showDeliveries();
      }),
      act('Recent deliveries', showDeliveries),
      act(
        'Remove',
        async () => {
          if (!window.confirm(`Remove the endpoint ${webhook.url}? Nothing more is sent to it.`)) return;
          await ctx.api.request('DELETE', webhookPath(webhook.id));
          ctx.notice('Endpoint removed.');
          await refresh();
        },
        true,
      ),
    ),
    deliveries,
  );
}

function deliveryTable(items: Delivery[]): HTMLElement {
  if (items.length === 0) return h('p', { class: 'muted' }, 'No deliveries yet.');
  return h(
    'table',
    { class: 'deliveries' },
    h('caption', { class: 'visually-hidden' }, 'Recent deliveries, newest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Event', 'Status', 'Attempts', 'Last answer', 'Next attempt'].map((title) =>
          h('th', { scope: 'col' }, title),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      items.map((d) =>
        h(
          'tr',
          { 'data-delivery-id': d.id },
          h('td', {}, d.eventType),
          h('td', {}, h('span', { class: `status status-${d.status}` }, d.status)),
          h('td', {}, String(d.attempts)),
          h(
            'td',
            {},
            d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : (d.lastError ?? '–'),
            d.lastLatencyMs !== null ? ` in ${d.lastLatencyMs} ms` : '',
          ),
          h('td', {}, d.nextAttemptAt ? new Date(d.nextAttemptAt).toLocaleString() : '–'),
        ),
      ),
    ),
  );
}
