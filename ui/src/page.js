// What every page shares: the breadcrumb, error panels with a retry, and the marks the tests
// and `make bench` read (performance.mark 'watcher:ready' once everything is on screen).

import { h, replace } from './dom.js';

export function crumbs(parts) {
  const nav = document.getElementById('crumbs');
  const items = [['Classes', '/ui/'], ...parts];
  replace(nav, h('ol', {}, items.map(([label, href], i) => h('li', {},
    i === items.length - 1
      ? h('span', { 'aria-current': 'page' }, label)
      : h('a', { href }, label)))));
}

export function title(text) {
  document.title = `${text} · JCode Watcher`;
}

// An error in place of what could not be loaded; `retry` reloads just that part.
export function errorPanel(error, retry) {
  const status = error && error.status;
  let hint = '';
  if (status === 503 || status === 502 || status === 0) hint = "The class's service may be down or restarting; try again in a few seconds.";
  else if (status === 422) hint = 'Some value in the address or the controls is not valid; fix it and apply again.';
  else if (status === 404) hint = 'Nothing is known under this name.';
  return h('div', { class: 'state error', role: 'alert' },
    h('p', { class: 'message' }, error ? error.message : 'Something went wrong.'),
    hint && h('p', { class: 'hint' }, hint),
    retry && h('button', { type: 'button', on: { click: retry } }, 'Try again'));
}

export function markReady() {
  performance.mark('watcher:ready');
  document.getElementById('main').dataset.ready = 'true';
}

export function classHref(classDiv) {
  return `/ui/classes/${encodeURIComponent(classDiv)}`;
}

export function assignmentHref(classDiv, hw) {
  return `${classHref(classDiv)}/assignments/${encodeURIComponent(hw)}`;
}

export function studentHref(classDiv, hw, student) {
  return `${assignmentHref(classDiv, hw)}/students/${encodeURIComponent(student)}`;
}
