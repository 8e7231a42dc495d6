// Every time on these pages is KST, shown with its offset exactly as the API gives it
// (`2025-03-10T15:01:30+09:00`): never converted to the reader's own time zone.

const ISO = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

// `2025-03-10T15:01:30.5+09:00` -> `2025-03-10 15:01:30 +09:00` (the fraction is dropped).
export function showTime(iso) {
  const m = ISO.exec(iso || '');
  return m ? `${m[1]} ${m[2]}${m[4] ? ` ${m[4]}` : ''}` : iso || '';
}

export function timeElement(h, iso) {
  return iso ? h('time', { datetime: iso }, showTime(iso)) : '';
}

// Seconds since the epoch (a real instant: the offset is honoured).
export function epochSeconds(iso) {
  const m = ISO.exec(iso);
  if (!m) return NaN;
  const ms = m[3] ? m[3].slice(0, 4) : '';
  return Date.parse(`${m[1]}T${m[2]}${ms}${m[4] || '+09:00'}`) / 1000;
}

// `2025-03-10T15:01:30+09:00` -> `2025-03-10T15:01:30`: the KST wall clock, which the API takes
// as KST when no offset is given (and the legacy routes read as their KST bounds).
export function kstWallClock(iso) {
  const m = ISO.exec(iso || '');
  return m ? `${m[1]}T${m[2]}` : '';
}

// Chart axes and legends in KST whatever the reader's zone (uPlot's time-zone hook).
export function kstDate(uPlot) {
  return (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Asia/Seoul');
}

const pad = (n) => String(n).padStart(2, '0');

// Axis labels of a KST time axis: `HH:MM`, with `MM-DD` where the day changes (ISO order, not
// the reader's locale).
export function kstTicks(u, splits) {
  let day = '';
  return splits.map((seconds) => {
    const d = new Date((seconds + 9 * 3600) * 1000); // KST fields read through the UTC getters
    const today = `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    const label = today === day ? clock : `${today}\n${clock}`;
    day = today;
    return label;
  });
}
