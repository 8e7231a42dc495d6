// `/ui/`: every class this address serves (an instance: the classes it holds; the gateway: its
// routing table) with each class's assignments. `/ui/classes/{class_div}`: one class.

import { getJSON, seg } from '../api.js';
import { empty, h, loading, replace } from '../dom.js';
import { assignmentHref, classHref, crumbs, errorPanel, markReady, title } from '../page.js';
import { timeElement } from '../times.js';

export async function classesPage(only) {
  const main = document.getElementById('main');
  crumbs(only ? [[only, classHref(only)]] : []);
  title(only || 'Classes');
  const list = h('div', { class: 'classes' });
  replace(main, h('h1', {}, only ? `Class ${only}` : 'Classes'), list);
  if (only) {
    await classCard(list, only, true);
    markReady();
    return;
  }
  replace(list, loading('classes'));
  try {
    const { classes } = await getJSON('/api/v2/classes');
    if (!classes.length) {
      replace(list, empty('No class has any data yet: nothing has been saved, built or run.'));
    } else {
      replace(list);
      await Promise.all(classes.map((c) => classCard(list, c.class_div, false)));
    }
  } catch (error) {
    replace(list, errorPanel(error, () => classesPage(only)));
  }
  markReady();
}

async function classCard(parent, classDiv, alone) {
  const body = h('div', { class: 'card-body' }, loading(`the assignments of ${classDiv}`));
  const heading = alone
    ? h('h2', {}, 'Assignments')
    : h('h2', {}, h('a', { href: classHref(classDiv) }, classDiv));
  parent.append(h('section', { class: 'card', dataset: { class: classDiv } }, heading, body));
  const load = async () => {
    replace(body, loading(`the assignments of ${classDiv}`));
    try {
      const { assignments } = await getJSON(`/api/v2/classes/${seg(classDiv)}/assignments`);
      replace(body, assignments.length
        ? assignmentsTable(classDiv, assignments)
        : empty('No assignments yet.'));
    } catch (error) {
      replace(body, errorPanel(error, load));
    }
  };
  await load();
}

function assignmentsTable(classDiv, assignments) {
  const head = ['Assignment', 'Students', 'Events', 'Saves', 'Builds', 'Runs', 'First activity (KST)', 'Last activity (KST)'];
  return h('div', { class: 'table-scroll' }, h('table', { class: 'data assignments' },
    h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, assignments.map((a) => h('tr', { dataset: { hw: a.hw_name } },
      h('th', { scope: 'row' }, h('a', { href: assignmentHref(classDiv, a.hw_name) }, a.hw_name)),
      h('td', { class: 'num' }, a.students),
      h('td', { class: 'num' }, a.events),
      h('td', { class: 'num' }, a.snapshots),
      h('td', { class: 'num' }, a.builds),
      h('td', { class: 'num' }, a.runs),
      h('td', {}, timeElement(h, a.first_activity)),
      h('td', {}, timeElement(h, a.last_activity)))))));
}
