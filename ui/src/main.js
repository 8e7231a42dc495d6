// The pages at /ui: one script, routed by the address. Each page asks the API for its data.

import 'uplot/dist/uPlot.min.css';
import './app.css';
import { h, replace } from './dom.js';
import { classesPage } from './pages/classes.js';
import { assignmentPage } from './pages/assignment.js';
import { studentPage } from './pages/student.js';

const ROUTES = [
  [/^\/ui\/?$/, () => classesPage(null)],
  [/^\/ui\/classes\/([^/]+)$/, (c) => classesPage(c)],
  [/^\/ui\/classes\/([^/]+)\/assignments\/([^/]+)$/, (c, hw) => assignmentPage(c, hw)],
  [/^\/ui\/classes\/([^/]+)\/assignments\/([^/]+)\/students\/([^/]+)$/, (c, hw, s) => studentPage(c, hw, s)],
];

function start() {
  const main = document.getElementById('main');
  for (const [pattern, open] of ROUTES) {
    const m = pattern.exec(location.pathname);
    if (m) {
      open(...m.slice(1).map(decodeURIComponent));
      return;
    }
  }
  replace(main, h('p', { class: 'state error', role: 'alert' }, 'No such page.'));
}

start();
