// The dashboard's rows: sorted as the API sorts them (missing values last either way, ties by
// student id), filtered, and written out as CSV exactly as shown.

export const COLUMNS = [
  { key: 'student_id', label: 'Student', numeric: true },
  { key: 'flags', label: 'Flags', sortKey: 'flag_count' },
  { key: 'snapshots', label: 'Saves', numeric: true },
  { key: 'files', label: 'Files', numeric: true },
  { key: 'builds', label: 'Builds', numeric: true },
  { key: 'failed_builds', label: 'Failed builds', numeric: true },
  { key: 'runs', label: 'Runs', numeric: true },
  { key: 'failed_runs', label: 'Failed runs', numeric: true },
  { key: 'churn_bytes', label: 'Churn (B)', numeric: true },
  { key: 'net_bytes', label: 'Net size (B)', numeric: true },
  { key: 'largest_change_bytes', label: 'Largest change (B)', numeric: true },
  { key: 'active_minutes', label: 'Active min', numeric: true },
  { key: 'bytes_per_active_minute', label: 'B / active min', numeric: true },
  { key: 'max_consecutive_failed_builds', label: 'Longest fail streak', numeric: true },
  { key: 'first_activity', label: 'First activity (KST)', time: true },
  { key: 'last_activity', label: 'Last activity (KST)', time: true },
];

export const SORT_KEYS = COLUMNS.map((c) => c.sortKey || c.key);

function valueOf(row, key) {
  return key === 'flag_count' ? row.flags.length : row[key];
}

function compare(a, b) {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

export function sortRows(rows, key, descending) {
  const byStudent = [...rows].sort((a, b) => a.student_id - b.student_id);
  const present = byStudent.filter((r) => valueOf(r, key) !== null && valueOf(r, key) !== undefined);
  const missing = byStudent.filter((r) => valueOf(r, key) === null || valueOf(r, key) === undefined);
  // Array.prototype.sort is stable: equal values keep the student order, in both directions.
  present.sort((a, b) => (descending ? -1 : 1) * compare(valueOf(a, key), valueOf(b, key)));
  return present.concat(missing);
}

export function visibleRows(rows, { sort, order, flaggedOnly }) {
  const sorted = sortRows(rows, sort, order === 'desc');
  return flaggedOnly ? sorted.filter((r) => r.flags.length > 0) : sorted;
}

// A cell as the API's own CSV writes it: numbers as JSON numbers, missing as empty, flags
// joined by `;`, times as the API's ISO strings.
export function csvCell(row, key) {
  const value = row[key];
  if (key === 'flags') return value.join(';');
  if (value === null || value === undefined) return '';
  return String(value);
}

function quote(text) {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows) {
  const lines = [COLUMNS.map((c) => c.key).join(',')];
  for (const row of rows) lines.push(COLUMNS.map((c) => quote(csvCell(row, c.key))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
