// `/ui/classes/{class_div}/assignments/{hw}`: one row per student (the v2 dashboard), sortable,
// filterable, downloadable as CSV; beside it the class's code size over time and its churn
// over the window. The window, thresholds, sort and filter live in the address, so a view can
// be bookmarked and shared.

import { getJSON, query, seg } from '../api.js';
import { churnChart, sizeBandChart } from '../charts.js';
import { empty, h, loading, replace } from '../dom.js';
import { badge } from '../flags.js';
import { assignmentHref, classHref, crumbs, errorPanel, markReady, studentHref, title } from '../page.js';
import { COLUMNS, SORT_KEYS, toCsv, visibleRows } from '../table.js';
import { epochSeconds, kstWallClock, timeElement } from '../times.js';

export const THRESHOLDS = [
  ['idle_minutes', 'Idle after (min)', 'A gap this long or longer is a break, not work.'],
  ['fast_bytes', 'Fast writing: bytes', 'Fast writing: at least this much code…'],
  ['fast_minutes', 'Fast writing: minutes', '…in fewer active minutes than this.'],
  ['large_share', 'Large change: share', 'Large single change: one change at least this share of all churn…'],
  ['large_min_bytes', 'Large change: min churn (B)', '…when churn is at least this.'],
  ['paste_bytes', 'Paste: bytes', 'Paste-like jump: a growth of at least this…'],
  ['paste_seconds', 'Paste: seconds', '…within this many seconds of the previous save.'],
  ['failure_streak', 'Failure streak', 'Repeated build failures: this many failed builds in a row.'],
];
const WINDOW = ['from', 'to'];
const SIZE_POINTS = 40; // moments of the size chart: one index seek per student and moment

// The view as the address describes it.
export function readView(search = location.search) {
  const q = new URLSearchParams(search);
  const sort = SORT_KEYS.includes(q.get('sort')) ? q.get('sort') : 'student_id';
  const asked = {};
  for (const name of [...WINDOW, ...THRESHOLDS.map(([n]) => n)]) {
    if (q.get(name)) asked[name] = q.get(name);
  }
  return { asked, sort, order: q.get('order') === 'desc' ? 'desc' : 'asc', flaggedOnly: q.get('flagged') === '1' };
}

function viewSearch(view) {
  return query({
    ...view.asked,
    sort: view.sort === 'student_id' ? '' : view.sort,
    order: view.order === 'desc' ? 'desc' : '',
    flagged: view.flaggedOnly ? '1' : '',
  });
}

export function assignmentPage(classDiv, hw) {
  const base = `/api/v2/classes/${seg(classDiv)}/assignments/${seg(hw)}`;
  const main = document.getElementById('main');
  crumbs([[classDiv, classHref(classDiv)], [hw, assignmentHref(classDiv, hw)]]);
  title(`${hw} · ${classDiv}`);

  let view = readView();
  let dashboard = null;

  const form = controls();
  const summary = h('p', { class: 'summary', role: 'status', 'aria-live': 'polite' });
  const flaggedBox = h('input', { type: 'checkbox', id: 'flagged-only', checked: view.flaggedOnly });
  const csvButton = h('button', { type: 'button', id: 'download-csv', disabled: true }, 'Download CSV');
  const tablePanel = h('div', { class: 'table-scroll', tabindex: '0', 'aria-label': 'Students' });
  const sizePanel = h('div', { class: 'chart', id: 'size-chart' });
  const churnPanel = h('div', { class: 'chart', id: 'churn-chart' });
  const sizeNote = h('p', { class: 'chart-note' });
  const churnNote = h('p', { class: 'chart-note' });

  replace(main,
    h('h1', {}, `${hw} `, h('small', {}, classDiv)),
    form.element,
    h('div', { class: 'layout' },
      h('section', { class: 'students', 'aria-labelledby': 'students-title' },
        h('div', { class: 'toolbar' },
          h('h2', { id: 'students-title' }, 'Students'),
          h('label', { class: 'check', for: 'flagged-only' }, flaggedBox, ' Flagged only'),
          csvButton),
        summary,
        tablePanel),
      h('aside', { class: 'charts', 'aria-label': 'Class charts' },
        h('figure', {},
          h('figcaption', {}, h('h2', {}, 'Code size over time'), h('span', {}, 'median, and p25–p75 band, across students')),
          sizePanel, sizeNote),
        h('figure', {},
          h('figcaption', {}, h('h2', {}, 'Churn over the window'), h('span', {}, 'bytes changed per student (largest first)')),
          churnPanel, churnNote))));

  flaggedBox.addEventListener('change', () => {
    view = { ...view, flaggedOnly: flaggedBox.checked };
    history.replaceState(null, '', location.pathname + viewSearch(view));
    renderTable();
  });
  csvButton.addEventListener('click', () => downloadCsv());
  form.element.addEventListener('submit', (event) => {
    event.preventDefault();
    view = { ...view, asked: form.read() };
    history.pushState(null, '', location.pathname + viewSearch(view));
    load();
  });
  form.reset.addEventListener('click', () => {
    view = { ...view, asked: {} };
    history.pushState(null, '', location.pathname + viewSearch(view));
    load();
  });
  window.addEventListener('popstate', () => {
    const next = readView();
    const reload = JSON.stringify(next.asked) !== JSON.stringify(view.asked);
    view = next;
    flaggedBox.checked = view.flaggedOnly;
    if (reload) load();
    else renderTable();
  });

  function shown() {
    return dashboard ? visibleRows(dashboard.students, view) : [];
  }

  function renderTable() {
    if (!dashboard) return;
    const rows = shown();
    const total = dashboard.students.length;
    replace(summary, total
      ? `Showing ${rows.length} of ${total} students${dashboard.total > total ? ` (the first ${total} of ${dashboard.total})` : ''}.`
      : '');
    csvButton.disabled = rows.length === 0;
    if (!total) {
      replace(tablePanel, empty('No students yet: nobody in this class has saved, built or run anything.'));
      return;
    }
    replace(tablePanel, studentsTable(rows));
  }

  function studentsTable(rows) {
    const search = query(Object.fromEntries(Object.entries(view.asked)));
    const header = h('tr', {}, COLUMNS.map((column) => {
      const key = column.sortKey || column.key;
      const active = view.sort === key;
      const next = active && view.order === 'asc' ? 'desc' : 'asc';
      return h('th', {
        scope: 'col', class: column.numeric ? 'num' : '', dataset: { key: column.key },
        'aria-sort': active ? (view.order === 'asc' ? 'ascending' : 'descending') : 'none',
      }, h('button', {
        type: 'button', class: 'sort', title: `Sort by ${column.label}`,
        on: {
          click: () => {
            view = { ...view, sort: key, order: active ? next : (column.numeric || column.time ? 'desc' : 'asc') };
            if (key === 'student_id' && !active) view.order = 'asc';
            history.replaceState(null, '', location.pathname + viewSearch(view));
            renderTable();
            tablePanel.querySelector(`th[data-key="${column.key}"] button`).focus();
          },
        },
      }, column.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (view.order === 'asc' ? ' ▲' : ' ▼') : '')));
    }));
    const body = rows.length
      ? rows.map((row) => h('tr', { dataset: { student: row.student_id }, class: row.flags.length ? 'flagged' : '' },
        COLUMNS.map((column) => cell(row, column, search))))
      : [h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'state empty' }, 'No student is flagged.'))];
    return h('table', { class: 'data dashboard' }, h('thead', {}, header), h('tbody', {}, body));
  }

  function cell(row, column, search) {
    const value = row[column.key];
    if (column.key === 'student_id') {
      return h('th', { scope: 'row', class: 'num' }, h('a', { href: studentHref(classDiv, hw, value) + search }, value));
    }
    if (column.key === 'flags') {
      return h('td', { class: 'flags' }, value.map((f) => badge(f, dashboard.thresholds)));
    }
    if (column.time) return h('td', { class: 'time' }, timeElement(h, value));
    return h('td', { class: 'num' }, value === null ? '' : String(value));
  }

  function downloadCsv() {
    const blob = new Blob([toCsv(shown())], { type: 'text/csv;charset=utf-8' });
    const link = h('a', { href: URL.createObjectURL(blob), download: `${classDiv}_${hw}_students.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  async function loadTable(request) {
    replace(tablePanel, loading('students'));
    replace(summary);
    dashboard = null;
    csvButton.disabled = true;
    try {
      dashboard = await request;
      form.fill(dashboard);
      renderTable();
      performance.mark('watcher:table');
    } catch (error) {
      replace(tablePanel, errorPanel(error, () => loadTable(fetchDashboard())));
    }
  }

  function fetchDashboard() {
    return getJSON(`${base}/dashboard${query({ ...view.asked, limit: 10000 })}`);
  }

  async function loadSizes() {
    replace(sizePanel, loading('code sizes'));
    replace(sizeNote);
    try {
      const sizes = await getJSON(`${base}/code-size${query({ from: view.asked.from, to: view.asked.to, points: SIZE_POINTS })}`);
      if (!sizes.points.length) {
        replace(sizePanel, empty('No saves yet.'));
        return;
      }
      sizeBandChart(sizePanel, sizes.points.map((p) => ({ ...p, time_s: epochSeconds(p.time) })));
      replace(sizeNote, `${sizes.students} students with saves; ${sizes.points.length} moments from `,
        timeElement(h, sizes.from), ' to ', timeElement(h, sizes.to), '. Before a first save a student counts as 0 bytes.');
    } catch (error) {
      replace(sizePanel, errorPanel(error, loadSizes));
    }
  }

  // The legacy churn route takes a closed window: without one, the assignment's first and last
  // activity (the dashboard's), so it waits for the table, not for the slower size chart.
  async function loadChurn(table) {
    replace(churnPanel, loading('churn'));
    replace(churnNote);
    let from = view.asked.from;
    let to = view.asked.to;
    if (!from || !to) {
      try {
        const rows = (await table).students;
        const firsts = rows.map((r) => r.first_activity).filter(Boolean).sort();
        const lasts = rows.map((r) => r.last_activity).filter(Boolean).sort();
        from = from || kstWallClock(firsts[0]);
        to = to || kstWallClock(lasts.at(-1));
      } catch {
        replace(churnPanel, empty('The students could not be loaded, so neither could their churn.'));
        return;
      }
    }
    if (!from || !to) {
      replace(churnPanel, empty('No activity, so no window to measure churn over.'));
      return;
    }
    try {
      const churn = await getJSON(`/api/total_graph_data/${seg(classDiv)}/${seg(hw)}/${seg(from)}/${seg(to)}`);
      if (!churn.results.length) {
        replace(churnPanel, empty('No saves in this window.'));
        return;
      }
      churnChart(churnPanel, churn.results);
      const total = churn.results.reduce((sum, r) => sum + r.size_change, 0);
      replace(churnNote, `${Math.round(total).toLocaleString('en')} bytes changed by ${churn.results.length} students from ${from.replace('T', ' ')} to ${to.replace('T', ' ')} KST (changes between two saves inside the window).`);
    } catch (error) {
      replace(churnPanel, errorPanel(error, () => loadChurn(table)));
    }
  }

  async function load() {
    form.show(view.asked);
    document.getElementById('main').dataset.ready = 'false';
    const table = fetchDashboard();
    await Promise.all([loadTable(table), loadSizes(), loadChurn(table)]);
    markReady();
  }

  load();
}

// The window and threshold controls: a real form, so Enter applies and every field has a label.
function controls() {
  const field = (name, label, attrs, help) => {
    const id = `control-${name}`;
    return h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('input', { id, name, ...attrs, ...(help ? { title: help } : {}) }));
  };
  const element = h('form', { class: 'controls', id: 'view-controls', 'aria-label': 'Window and thresholds' },
    h('fieldset', { class: 'window' },
      h('legend', {}, 'Window (KST, +09:00; empty: the whole assignment)'),
      field('from', 'From', { type: 'datetime-local', step: '1' }),
      field('to', 'To', { type: 'datetime-local', step: '1' })),
    h('details', { class: 'thresholds' },
      h('summary', {}, 'Thresholds'),
      h('div', { class: 'grid' }, THRESHOLDS.map(([name, label, help]) => field(name, label, { type: 'number', step: 'any', min: '0' }, help)))),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
      h('button', { type: 'button', class: 'reset' }, 'Reset')));
  const input = (name) => element.elements.namedItem(name);
  const asked = {};
  return {
    element,
    reset: element.querySelector('button.reset'),
    // Show the address's values (the window as typed; a bound with an offset or a bare date is
    // shown as the API read it once the answer comes).
    show(values) {
      Object.keys(asked).forEach((k) => delete asked[k]);
      Object.assign(asked, values);
      for (const name of WINDOW) input(name).value = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(values[name] || '') ? values[name] : '';
      for (const [name] of THRESHOLDS) input(name).value = values[name] || '';
    },
    // The thresholds in force, as the API reports them.
    fill(dashboard) {
      for (const [name] of THRESHOLDS) {
        input(name).value = dashboard.thresholds[name];
        input(name).dataset.shown = String(dashboard.thresholds[name]);
      }
      for (const name of WINDOW) {
        if (!input(name).value && dashboard[name]) input(name).value = kstWallClock(dashboard[name]);
      }
    },
    // What to put in the address: the window, and each threshold the reader set or changed.
    read() {
      const out = {};
      for (const name of WINDOW) if (input(name).value) out[name] = input(name).value;
      for (const [name] of THRESHOLDS) {
        const value = input(name).value.trim();
        if (value && (asked[name] !== undefined || value !== input(name).dataset.shown)) out[name] = value;
      }
      return out;
    },
  };
}
