// The dashboard's flags: a short label, and the rule with the thresholds in force (the API's
// `thresholds`), shown as a tooltip on hover and on keyboard focus.

import { h } from './dom.js';

const percent = (share) => `${Math.round(share * 1000) / 10} %`;

export const FLAGS = {
  no_activity: {
    label: 'No activity',
    rule: () => 'No save, build or run in this assignment (or in the chosen window).',
  },
  never_compiled: {
    label: 'Never compiled',
    rule: () => 'Saved code (a file larger than 0 bytes) but never ran a build.',
  },
  large_single_change: {
    label: 'Large single change',
    rule: (t) => `One change is at least ${percent(t.large_share)} of all churn, with churn of at least ${t.large_min_bytes} bytes.`,
  },
  fast_writing: {
    label: 'Fast writing',
    rule: (t) => `At least ${t.fast_bytes} bytes of code in fewer than ${t.fast_minutes} active minutes.`,
  },
  paste_like_jump: {
    label: 'Paste-like jump',
    rule: (t) => `A save grew its file by at least ${t.paste_bytes} bytes within ${t.paste_seconds} s of the file's previous save.`,
  },
  repeated_build_failures: {
    label: 'Repeated build failures',
    rule: (t) => `At least ${t.failure_streak} failed builds in a row.`,
  },
};

export function ruleOf(flag, thresholds) {
  const known = FLAGS[flag];
  return known ? known.rule(thresholds) : flag;
}

let tips = 0;

export function badge(flag, thresholds) {
  const known = FLAGS[flag];
  const id = `tip-${++tips}`;
  return h('span', {
    class: `badge flag-${flag}`, tabindex: '0', dataset: { flag }, 'aria-describedby': id,
  },
  known ? known.label : flag,
  h('span', { class: 'tip', role: 'tooltip', id }, ruleOf(flag, thresholds)));
}
