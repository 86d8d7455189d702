import { html } from '../lib/html.js';

const WIDTH = 640;
const HEIGHT = 170;
const PAD = { top: 12, right: 8, bottom: 24, left: 40 };

const timeLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayLabel = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });

/** Slots a day or more apart from the first to the last are labelled with their weekday. */
function labelFor(slots) {
  const first = slots[0]?.start;
  const last = slots.at(-1)?.start;
  return first && last && last - first >= 86_400_000 ? dayLabel : timeLabel;
}

/**
 * The stored history (GET /tasks/history) as chart slots, oldest first: one per bucket, each with
 * its counts and its p95 queue wait and run time.
 */
export function historySlots(history) {
  return (history?.buckets ?? []).map((b) => ({
    start: Date.parse(b.start),
    completed: b.completed,
    failed: b.failed,
    waitP95: b.wait_p95_ms,
    runP95: b.run_p95_ms,
  }));
}

function niceMax(value) {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return value;
}

function Axes({ max, format, slots }) {
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const label = labelFor(slots);
  const middle = Math.floor(slots.length / 2);
  const ticks = [0, max / 2, max];
  // No buckets yet (the history still loading): the labels sit at the left edge rather than at NaN.
  const x = (i) => PAD.left + (slots.length === 0 ? 0 : i / slots.length) * (WIDTH - PAD.left - PAD.right);
  return html`<g class="axes" aria-hidden="true">
    ${ticks.map((t) => {
      const y = PAD.top + innerH - (t / max) * innerH;
      return html`<g><line x1=${PAD.left} x2=${WIDTH - PAD.right} y1=${y} y2=${y} class="grid" /><text x=${PAD.left - 6} y=${y + 4} text-anchor="end">${format(t)}</text></g>`;
    })}
    <text x=${x(0)} y=${HEIGHT - 6} text-anchor="start">${slots[0]?.start ? label.format(slots[0].start) : ''}</text>
    <text x=${x(middle)} y=${HEIGHT - 6} text-anchor="middle">${slots[middle]?.start ? label.format(slots[middle].start) : ''}</text>
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
      const when = s.start ? labelFor(slots).format(s.start) : 'last 60 s';
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
    ${points.filter(Boolean).map((p) => html`<circle class="rate-dot" cx=${p.x} cy=${p.y} r="2.5"><title>${p.s.start ? labelFor(slots).format(p.s.start) : 'last 60 s'}: ${Math.round(p.rate * 100)}% failed</title></circle>`)}
  </svg>`;
}

/** p95 queue wait and run time per bucket, in seconds (buckets where nothing started are gaps). */
export function LatencyChart({ slots, label }) {
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slotW = innerW / slots.length;
  const max = niceMax(Math.max(0, ...slots.flatMap((s) => [s.waitP95 ?? 0, s.runP95 ?? 0])) / 1000);
  const line = (key) => {
    const segments = [];
    let run = [];
    slots.forEach((s, i) => {
      if (s[key] === null || s[key] === undefined) {
        if (run.length) segments.push(run);
        run = [];
      } else run.push(`${PAD.left + i * slotW + slotW / 2},${PAD.top + innerH - (s[key] / 1000 / max) * innerH}`);
    });
    if (run.length) segments.push(run);
    return segments;
  };
  return html`<svg class="chart" viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label=${label}>
    <title>${label}</title>
    <${Axes} max=${max} slots=${slots} format=${(t) => `${Math.round(t * 10) / 10}s`} />
    ${line('waitP95').map((seg) => html`<polyline class="rate-line wait-line" points=${seg.join(' ')} />`)}
    ${line('runP95').map((seg) => html`<polyline class="rate-line run-line" points=${seg.join(' ')} />`)}
  </svg>`;
}
