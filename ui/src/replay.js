// Replay of one file: a slider (and the arrow keys) over its versions, each shown as it was
// with the lines added since the previous version highlighted and the removed ones struck out.
// Versions, content and diffs come from the v2 content routes, one version at a time.

import { getJSON, getText, query, seg } from './api.js';
import { empty, h, loading, replace } from './dom.js';
import { errorPanel } from './page.js';
import { showTime } from './times.js';

// New-file line numbers added by the diff, and the removed lines that stood before each line.
export function diffMarks(hunks) {
  const added = new Set();
  const removedBefore = new Map();
  for (const hunk of hunks) {
    let line = hunk.new_lines === 0 ? hunk.new_start + 1 : hunk.new_start;
    for (const text of hunk.lines) {
      const mark = text[0];
      if (mark === ' ') line += 1;
      else if (mark === '+') added.add(line++);
      else if (mark === '-') {
        if (!removedBefore.has(line)) removedBefore.set(line, []);
        removedBefore.get(line).push(text.slice(1));
      }
    }
  }
  return { added, removedBefore };
}

function splitLines(text) {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function codeView(text, hunks) {
  const { added, removedBefore } = diffMarks(hunks);
  const lines = splitLines(text);
  const rows = [];
  const removed = (n) => (removedBefore.get(n) || []).map((t) => h('div', { class: 'line removed' },
    h('span', { class: 'ln', 'aria-hidden': 'true' }, ''), h('span', { class: 'mark' }, '−'), h('span', { class: 'text' }, t)));
  lines.forEach((t, i) => {
    const n = i + 1;
    rows.push(...removed(n));
    const isAdded = added.has(n);
    rows.push(h('div', { class: `line${isAdded ? ' added' : ''}` },
      h('span', { class: 'ln', 'aria-hidden': 'true' }, n),
      h('span', { class: 'mark' }, isAdded ? '+' : ' '),
      h('span', { class: 'text' }, t)));
  });
  rows.push(...removed(lines.length + 1));
  return h('div', { class: 'code', role: 'region', 'aria-label': 'File content', tabindex: '0' }, rows.length ? rows : empty('(empty file)'));
}

export function replayPanel(fileBase, files, initial, onChange) {
  const select = h('select', { id: 'replay-file' }, files.map((f) => h('option', { value: f.name, selected: f.name === initial.file }, `${f.name} (${f.saves.length} saves)`)));
  const slider = h('input', { type: 'range', id: 'replay-slider', min: '1', max: '1', value: '1', disabled: true });
  const prev = h('button', { type: 'button', 'aria-label': 'Previous version', disabled: true }, '◀');
  const next = h('button', { type: 'button', 'aria-label': 'Next version', disabled: true }, '▶');
  const info = h('p', { class: 'version-info', role: 'status', 'aria-live': 'polite' });
  const view = h('div', { class: 'replay-view' });
  let versions = [];
  let file = initial.file;
  let token = 0;

  const show = async (index) => {
    const mine = ++token;
    const v = versions[index];
    slider.value = String(index + 1);
    prev.disabled = index === 0;
    next.disabled = index === versions.length - 1;
    onChange(file, index + 1);
    const head = `Version ${index + 1} of ${versions.length} · ${showTime(v.timestamp)} · ${v.bytes} B`;
    replace(info, head);
    const later = versions[index + 1];
    if (later && later.stamp === v.stamp) {
      replace(view, empty('Saved again within the same second: only the last save of that second can be shown. Move to the next version.'));
      return;
    }
    if (!v.available) {
      const why = v.too_large ? 'too large to show' : v.deleted ? 'the file was deleted' : 'no content was kept for this version';
      replace(view, empty(`No content: ${why}.`));
      return;
    }
    if (v.binary) {
      replace(view, empty('Binary content: not shown.'));
      return;
    }
    replace(view, loading(`version ${index + 1}`));
    try {
      const [text, diff] = await Promise.all([
        getText(`${fileBase(file)}/versions/${seg(v.stamp)}/content`),
        getJSON(`${fileBase(file)}/diff${query({ to: v.stamp })}`),
      ]);
      if (mine !== token) return;
      replace(info, `${head} · +${diff.added} −${diff.removed} lines`);
      replace(view, codeView(text, diff.hunks));
      view.dataset.version = String(index + 1);
    } catch (error) {
      if (mine === token) replace(view, errorPanel(error, () => show(index)));
    }
  };

  const open = async (name, wanted) => {
    file = name;
    versions = [];
    slider.disabled = prev.disabled = next.disabled = true;
    replace(info);
    replace(view, loading(`the versions of ${name}`));
    try {
      // The versions alone (no content read): each step then reads one content and one diff.
      const listed = await getJSON(`${fileBase(name)}/versions`);
      if (!listed.content_configured && !listed.versions.some((v) => v.available)) {
        replace(view, empty('No content to replay: snapshot content is not configured (WATCHER_SNAPSHOT_DIR) and none was posted.'));
        return;
      }
      versions = listed.versions;
    } catch (error) {
      replace(view, error.status === 404 ? empty(`No content to replay: ${error.detail}`) : errorPanel(error, () => open(name, wanted)));
      return;
    }
    slider.max = String(versions.length);
    slider.disabled = versions.length < 2;
    const index = Math.min(Math.max((wanted || versions.length) - 1, 0), versions.length - 1);
    await show(index);
  };

  select.addEventListener('change', () => open(select.value));
  slider.addEventListener('input', () => show(Number(slider.value) - 1));
  prev.addEventListener('click', () => show(Number(slider.value) - 2));
  next.addEventListener('click', () => show(Number(slider.value)));
  const panel = h('div', { class: 'replay' },
    h('div', { class: 'replay-controls' },
      h('label', { for: 'replay-file' }, 'File'), select,
      prev, h('label', { class: 'visually-hidden', for: 'replay-slider' }, 'Version'), slider, next),
    info, view);
  // Left/right anywhere in the replay (not only on the slider) step through versions.
  panel.addEventListener('keydown', (event) => {
    if (event.target === slider || event.target === select || !versions.length) return;
    if (event.key === 'ArrowLeft' && !prev.disabled) { event.preventDefault(); show(Number(slider.value) - 2); }
    if (event.key === 'ArrowRight' && !next.disabled) { event.preventDefault(); show(Number(slider.value)); }
  });
  return { element: panel, ready: open(initial.file, initial.version) };
}
