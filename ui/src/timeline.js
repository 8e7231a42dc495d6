// A student's saves, builds and runs in time order, with the API's event flags, failed builds
// marked and every run of consecutive failed builds highlighted as a streak.

import { h, replace } from './dom.js';
import { badge } from './flags.js';
import { timeElement } from './times.js';

const CHUNK = 500;

// For each failed build: its place in its run of consecutive failed builds (builds only, in
// time order, as the dashboard counts a streak) and the run's length.
export function streaks(events) {
  const out = new Map();
  let run = [];
  const close = () => {
    for (const [i, e] of run.entries()) out.set(e, { position: i + 1, length: run.length });
    run = [];
  };
  for (const e of events) {
    if (e.kind !== 'build') continue;
    if (e.failed) run.push(e);
    else close();
  }
  close();
  return out;
}

const KINDS = { snapshot: 'Save', build: 'Build', run: 'Run' };
const FILTERS = [
  ['all', 'All events', () => true],
  ['snapshot', 'Saves', (e) => e.kind === 'snapshot'],
  ['build', 'Builds', (e) => e.kind === 'build'],
  ['run', 'Runs', (e) => e.kind === 'run'],
  ['notable', 'Flagged or failed', (e) => e.flags.length > 0 || e.failed],
];

function signed(n) {
  if (n === null || n === undefined) return 'first save';
  return n > 0 ? `+${n}` : String(n);
}

function row(event, streak, thresholds) {
  const classes = [`kind-${event.kind}`];
  if (event.failed) classes.push('failed');
  let note = '';
  if (streak && streak.length >= 2) {
    classes.push('streak');
    if (streak.length >= thresholds.failure_streak) classes.push('streak-long');
    note = h('span', { class: 'streak-note' }, `failed build ${streak.position} of ${streak.length} in a row`);
  }
  let what;
  let result;
  if (event.kind === 'snapshot') {
    what = h('code', {}, event.filename);
    result = `${event.size} B (${signed(event.delta)})`;
  } else {
    what = h('code', {}, event.cmdline || event.target_path || '');
    result = event.failed ? h('span', { class: 'fail' }, `✗ exit ${event.exit_code}`) : h('span', { class: 'ok' }, `✓ exit ${event.exit_code}`);
  }
  return h('tr', { class: classes.join(' '), dataset: { kind: event.kind, id: event.id } },
    h('td', { class: 'time' }, timeElement(h, event.time)),
    h('td', {}, KINDS[event.kind]),
    h('td', { class: 'what' }, what),
    h('td', {}, result, note),
    h('td', { class: 'flags' }, event.flags.map((f) => badge(f, thresholds))));
}

export function timelinePanel(events, thresholds) {
  const streakOf = streaks(events);
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'more' });
  const count = h('p', { class: 'summary', role: 'status', 'aria-live': 'polite' });
  let filter = FILTERS[0];
  let chosen = events;
  let shown = 0;

  const showMore = () => {
    const next = chosen.slice(shown, shown + CHUNK);
    body.append(...next.map((e) => row(e, streakOf.get(e), thresholds)));
    shown += next.length;
    more.hidden = shown >= chosen.length;
    more.textContent = `Show ${Math.min(CHUNK, chosen.length - shown)} more`;
    replace(count, `Showing ${shown} of ${chosen.length} events${filter[0] === 'all' ? '' : ` (${filter[1].toLowerCase()})`}.`);
  };
  const choose = (f) => {
    filter = f;
    chosen = events.filter(f[2]);
    shown = 0;
    body.replaceChildren();
    showMore();
  };
  more.addEventListener('click', showMore);
  const filters = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Show' },
    FILTERS.map((f) => h('label', {},
      h('input', { type: 'radio', name: 'timeline-filter', value: f[0], checked: f === filter, on: { change: () => choose(f) } }),
      ` ${f[1]}`)));
  choose(filter);
  return h('div', { class: 'timeline' }, filters, count,
    h('div', { class: 'table-scroll' },
      h('table', { class: 'data timeline-table' },
        h('thead', {}, h('tr', {}, ['Time (KST)', 'Event', 'File or command', 'Size or result', 'Flags'].map((t) => h('th', { scope: 'col' }, t)))),
        body)),
    more);
}
