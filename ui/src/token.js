// WATCHER_READ_TOKEN: asked for once (when the API first answers 401), kept for this browser
// tab in sessionStorage, and sent only as `Authorization: Bearer ...`, never in a URL.

import { h } from './dom.js';

const KEY = 'watcher.readToken';
let pending = null;
let memory = ''; // where the token lives when sessionStorage is not available

export function storedToken() {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

function store(token) {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage disabled: the token lives only as long as this page.
  }
  memory = token;
}

export function currentToken() {
  return storedToken() || memory;
}

// One prompt for every request that was refused at the same time. Resolves to the new token,
// or null when the reader cancels.
export function askToken(refused) {
  if (!pending) pending = prompt(refused).finally(() => { pending = null; });
  return pending;
}

function prompt(refused) {
  return new Promise((resolve) => {
    const input = h('input', {
      type: 'password', id: 'token-input', name: 'token', autocomplete: 'off', required: true,
      spellcheck: 'false',
    });
    const dialog = h('dialog', { class: 'token', 'aria-labelledby': 'token-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'token-title' }, 'Read token required'),
        h('p', {}, refused
          ? 'The service refused that token. Enter the read token again.'
          : 'This service asks for a read token (WATCHER_READ_TOKEN). It is kept for this tab only and sent as a header, never in an address.'),
        h('label', { for: 'token-input' }, 'Token'),
        input,
        h('div', { class: 'actions' },
          h('button', { type: 'submit', value: 'ok', class: 'primary' }, 'Use token'),
          h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel'))));
    dialog.addEventListener('close', () => {
      const token = input.value.trim();
      dialog.remove();
      if (dialog.returnValue === 'ok' && token) {
        store(token);
        resolve(token);
      } else {
        resolve(null);
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}
