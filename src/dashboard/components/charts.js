import { html } from '../lib/html.js';

const WIDTH = 640;
const HEIGHT = 170;
const PAD = { top: 12, right: 8, bottom: 24, left: 40 };
const MINUTES = 60;

const timeLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * The last hour as 60 one-minute slots plus the rolling "last 60 s": each a point from the live
 * stream's per-minute series, or null where the server has no sample (before it started watching).
 */
export function minuteSlots(stats, now) {
  const current = Math.floor(now / 60_000);
  const byMinute = new Map((stats?.throughput ?? []).map((p) => [Math.floor(Date.parse(p.minute_start) / 60_000), p]));
  const slots = [];
  for (let m = current - MINUTES; m < current; m++) {
    const p = byMinute.get(m);
    slots.push({ start: m * 60_000, completed: p?.completed ?? null, failed: p?.failed ?? null });
  }
  slots.push({ start: null, completed: stats?.completed_last_minute ?? null, failed: stats?.failed_last_minute ?? null });
  return slots;
}

function niceMax(value) {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return value;
}

function Axes({ max, format, slots }) {
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const ticks = [0, max / 2, max];
  const x = (i) => PAD.left + (i / slots.length) * (WIDTH - PAD.left - PAD.right);
  return html`<g class="axes" aria-hidden="true">
    ${ticks.map((t) => {
      const y = PAD.top + innerH - (t / max) * innerH;
      return html`<g><line x1=${PAD.left} x2=${WIDTH - PAD.right} y1=${y} y2=${y} class="grid" /><text x=${PAD.left - 6} y=${y + 4} text-anchor="end">${format(t)}</text></g>`;
    })}
    <text x=${x(0)} y=${HEIGHT - 6} text-anchor="start">${slots[0]?.start ? timeLabel.format(slots[0].start) : ''}</text>
    <text x=${x(30)} y=${HEIGHT - 6} text-anchor="middle">${slots[30]?.start ? timeLabel.format(slots[30].start) : ''}</text>
    <text x=${WIDTH - PAD.right} y=${HEIGHT - 6} text-anchor="end">now</text>
  </g>`;
}

/** Completed (and, stacked above, failed) tasks per minute over the last hour. */
export function ThroughputChart({ slots, label }) {
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const max = niceMax(Math.max(0, ...slots.map((s) => (s.completed ?? 0) + (s.failed ?? 0))));
  const slotW = innerW / slots.length;
  const barW = Math.max(1, slotW - 2);
  const y = (v) => (v / max) * innerH;
  return html`<svg class="chart" viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label=${label}>
    <title>${label}</title>
    <${Axes} max=${max} slots=${slots} format=${(t) => String(Math.round(t))} />
    ${slots.map((s, i) => {
      const x0 = PAD.left + i * slotW + 1;
      const base = PAD.top + innerH;
      const when = s.start ? timeLabel.format(s.start) : 'last 60 s';
      if (s.completed === null) return html`<rect class="bar-missing" x=${x0} y=${base - 2} width=${barW} height="2"><title>${when}: no sample</title></rect>`;
      const hc = y(s.completed);
      const hf = y(s.failed ?? 0);
      return html`<g class=${s.start ? '' : 'bar-now'}>
        <title>${when}: ${s.completed} completed, ${s.failed ?? 0} failed</title>
        <rect class="bar-completed" x=${x0} y=${base - hc} width=${barW} height=${Math.max(hc, s.completed > 0 ? 1 : 0)} />
        <rect class="bar-failed" x=${x0} y=${base - hc - hf} width=${barW} height=${Math.max(hf, (s.failed ?? 0) > 0 ? 1 : 0)} />
      </g>`;
    })}
  </svg>`;
}

/** The share of finished tasks that failed, per minute (minutes with nothing finished are gaps). */
export function FailureRateChart({ slots, label }) {
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slotW = innerW / slots.length;
  const points = slots.map((s, i) => {
    const total = (s.completed ?? 0) + (s.failed ?? 0);
    if (s.completed === null || total === 0) return null;
    return { x: PAD.left + i * slotW + slotW / 2, y: PAD.top + innerH - (s.failed / total) * innerH, rate: s.failed / total, s };
  });
  // Consecutive points form one line; a gap starts another.
  const segments = [];
  let run = [];
  for (const p of points) {
    if (p) run.push(p);
    else if (run.length) {
      segments.push(run);
      run = [];
    }
  }
  if (run.length) segments.push(run);
  return html`<svg class="chart" viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label=${label}>
    <title>${label}</title>
    <${Axes} max=${1} slots=${slots} format=${(t) => `${Math.round(t * 100)}%`} />
    ${segments.map((seg) => html`<polyline class="rate-line" points=${seg.map((p) => `${p.x},${p.y}`).join(' ')} />`)}
    ${points.filter(Boolean).map((p) => html`<circle class="rate-dot" cx=${p.x} cy=${p.y} r="2.5"><title>${p.s.start ? timeLabel.format(p.s.start) : 'last 60 s'}: ${Math.round(p.rate * 100)}% failed</title></circle>`)}
  </svg>`;
}
