import { errorMessage, heading, type View } from '../app.ts';
import type { Role } from '../auth.ts';
import { field, h } from '../dom.ts';

/** Local: a username and a role, minted by /local/token. Cloud: a button to Cognito's hosted UI. */
export const signInView: View = (ctx, main) => {
  if (ctx.auth.mode === 'cognito') {
    const button = h('button', { type: 'button', class: 'primary' }, 'Sign in with VideoCloud');
    button.addEventListener('click', () => {
      button.disabled = true;
      ctx.auth.signInHosted().catch((error: unknown) => {
        button.disabled = false;
        ctx.error(errorMessage(error));
      });
    });
    main.append(
      heading('Sign in'),
      h('p', {}, 'You will be taken to the sign-in page and brought back here.'),
      button,
    );
    return;
  }

  const username = h('input', {
    name: 'username',
    autocomplete: 'username',
    required: true,
    pattern: '[A-Za-z0-9._@+\\-]{1,128}',
    maxlength: 128,
  });
  const role = h(
    'select',
    { name: 'role' },
    h('option', { value: 'creator' }, 'Creator (upload and manage own videos)'),
    h('option', { value: 'viewer' }, 'Viewer (watch)'),
    h('option', { value: 'admin' }, 'Admin (everything)'),
  );
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    field('Username', username, 'Letters, digits and . _ @ + - only.'),
    field('Role', role),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    ctx.auth
      .signInLocal(username.value.trim(), role.value as Role)
      .then(() => ctx.navigate(new URLSearchParams(location.search).get('next') ?? '/me'))
      .catch((error: unknown) => {
        submit.disabled = false;
        ctx.error(errorMessage(error));
      });
  });
  const title = heading('Sign in');
  title.id = 'signin-title';
  main.append(
    title,
    h(
      'p',
      {},
      'Local development sign-in: pick any username and a role. No password is needed on this machine.',
    ),
    form,
  );
  username.focus();
};
