// `/ui/classes/{class_div}/assignments/{hw}/students/{student_id}`: the student's code size per
// file over time, a replay of any file, and the timeline of saves, builds and runs. The window
// and thresholds come from the address (the assignment page passes its own along).

import { getJSON, query, seg } from '../api.js';
import { fileSizeChart } from '../charts.js';
import { empty, h, loading, replace } from '../dom.js';
import { badge } from '../flags.js';
import { assignmentHref, classHref, crumbs, errorPanel, markReady, studentHref, title } from '../page.js';
import { replayPanel } from '../replay.js';
import { timelinePanel } from '../timeline.js';
import { epochSeconds } from '../times.js';
import { readView } from './assignment.js';

const PAGE = 10000; // the API's largest page

async function allEvents(base, asked) {
  let offset = 0;
  let first = null;
  const events = [];
  for (;;) {
    const page = await getJSON(`${base}/timeline${query({ ...asked, limit: PAGE, offset })}`);
    first = first || page;
    events.push(...page.events);
    offset += page.events.length;
    if (!page.events.length || offset >= page.total) break;
  }
  return { ...first, events };
}

export function filesOf(events) {
  const files = new Map();
  for (const e of events) {
    if (e.kind !== 'snapshot') continue;
    if (!files.has(e.filename)) files.set(e.filename, { name: e.filename, saves: [] });
    files.get(e.filename).saves.push({ time_s: epochSeconds(e.time), size: e.size, time: e.time });
  }
  return [...files.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function summary(timeline) {
  const count = (f) => timeline.events.filter(f).length;
  const flagged = new Map();
  for (const e of timeline.events) for (const f of e.flags) flagged.set(f, (flagged.get(f) || 0) + 1);
  const window = timeline.from || timeline.to ? ' in the window' : '';
  return h('div', { class: 'summary-line' },
    h('p', {}, `${count((e) => e.kind === 'snapshot')} saves, ${count((e) => e.kind === 'build')} builds (${count((e) => e.kind === 'build' && e.failed)} failed), ${count((e) => e.kind === 'run')} runs (${count((e) => e.kind === 'run' && e.failed)} failed)${window}.`),
    flagged.size ? h('p', { class: 'flags' }, 'Flagged events: ', [...flagged].map(([f, n]) => [badge(f, timeline.thresholds), ` ×${n} `])) : null);
}

export async function studentPage(classDiv, hw, student) {
  const main = document.getElementById('main');
  const view = readView();
  const search = query(view.asked);
  crumbs([[classDiv, classHref(classDiv)], [hw, assignmentHref(classDiv, hw) + search], [student, studentHref(classDiv, hw, student) + search]]);
  title(`${student} · ${hw} · ${classDiv}`);
  const base = `/api/v2/classes/${seg(classDiv)}/assignments/${seg(hw)}/students/${seg(student)}`;
  const fileBase = (name) => `${base}/files/${seg(name)}`;

  const head = h('div', { class: 'student-summary' }, loading('the timeline'));
  const chart = h('div', { class: 'chart wide', id: 'file-chart' });
  const replaySlot = h('div');
  const timelineSlot = h('div');
  replace(main,
    h('h1', {}, `Student ${student} `, h('small', {}, `${classDiv} · ${hw}`)),
    head,
    h('section', { class: 'panel', 'aria-labelledby': 'size-title' },
      h('h2', { id: 'size-title' }, 'Code size per file'), chart),
    h('section', { class: 'panel', 'aria-labelledby': 'replay-title' },
      h('h2', { id: 'replay-title' }, 'Replay'), replaySlot),
    h('section', { class: 'panel', 'aria-labelledby': 'timeline-title' },
      h('h2', { id: 'timeline-title' }, 'Timeline'), timelineSlot));

  let timeline;
  try {
    timeline = await allEvents(base, view.asked);
  } catch (error) {
    replace(head, errorPanel(error, () => studentPage(classDiv, hw, student)));
    replace(chart);
    markReady();
    return;
  }
  replace(head, summary(timeline));
  if (!timeline.events.length) {
    const none = empty('No saves, builds or runs yet.');
    replace(chart, none);
    replace(replaySlot, empty('Nothing to replay.'));
    replace(timelineSlot, empty('No events.'));
    markReady();
    return;
  }
  const files = filesOf(timeline.events);
  // The replay's first requests go out before the chart and the timeline are drawn.
  const replay = files.length ? openReplay(fileBase, files, timeline) : null;
  if (files.length) fileSizeChart(chart, files);
  else replace(chart, empty('No saves: only builds and runs.'));
  replace(timelineSlot, timelinePanel(timeline.events, timeline.thresholds));
  performance.mark('watcher:timeline');

  if (replay) {
    replace(replaySlot, replay.element);
    await replay.ready;
  } else {
    replace(replaySlot, empty('Nothing to replay.'));
  }
  markReady();
}

function openReplay(fileBase, files, timeline) {
  const q = new URLSearchParams(location.search);
  const latest = timeline.events.filter((e) => e.kind === 'snapshot').at(-1);
  const wanted = files.some((f) => f.name === q.get('file')) ? q.get('file') : latest.filename;
  return replayPanel(fileBase, files, { file: wanted, version: Number(q.get('version')) || 0 }, (file, version) => {
    const params = new URLSearchParams(location.search);
    params.set('file', file);
    params.set('version', String(version));
    history.replaceState(null, '', `${location.pathname}?${params}`);
  });
}
