/**
 * Several bars per system (p50, p95, p99) on a logarithmic axis, as an SVG document written by hand:
 * latencies span from a fraction of a millisecond to seconds, which a linear axis cannot show.
 */
import { escapeXml, formatValue } from './format.ts';

export interface Group {
  label: string;
  highlight: boolean;
  /** One value per series, in the order of `series`; NaN when the system has none. */
  values: number[];
  note?: string;
}

const WIDTH = 760;
const LABEL_WIDTH = 210;
const VALUE_WIDTH = 70;
const BAR_HEIGHT = 12;
const GROUP_GAP = 12;
const TOP = 72;
const BOTTOM = 30;
const SHADES = { highlight: ['#f08c00', '#e8590c', '#c92a2a'], normal: ['#ced4da', '#868e96', '#343a40'] };

export function groupedLogChart(p: { title: string; unit: string; series: string[]; groups: Group[] }): string {
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const finite = p.groups.flatMap((g) => g.values).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...finite, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...finite, lo * 10)));
  const x = (value: number) => LABEL_WIDTH + ((Math.log10(Math.max(value, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotWidth;
  const groupHeight = p.series.length * BAR_HEIGHT + GROUP_GAP;
  const height = TOP + p.groups.length * groupHeight + BOTTOM;

  const grid: string[] = [];
  for (let tick = lo; tick <= hi * 1.0001; tick *= 10) {
    grid.push(`<line x1="${x(tick)}" x2="${x(tick)}" y1="${TOP - 6}" y2="${height - BOTTOM + 4}" class="grid"/>`);
    grid.push(`<text x="${x(tick)}" y="${height - BOTTOM + 18}" text-anchor="middle" class="sub">${tick >= 1 ? tick.toLocaleString('en-US') : String(Number(tick.toPrecision(1)))}</text>`);
  }
  const legend = p.series.map(
    (name, n) => `<rect x="${LABEL_WIDTH + n * 70}" y="${TOP - 24}" width="10" height="10" fill="${SHADES.normal[n % 3]}"/><text x="${LABEL_WIDTH + n * 70 + 14}" y="${TOP - 15}" class="sub">${escapeXml(name)}</text>`,
  );
  const rows = p.groups.map((group, g) => {
    const y0 = TOP + g * groupHeight;
    const parts = [`<text x="${LABEL_WIDTH - 8}" y="${y0 + (p.series.length * BAR_HEIGHT) / 2 + 4}" text-anchor="end">${escapeXml(group.label)}</text>`];
    if (group.values.every((v) => !Number.isFinite(v))) {
      parts.push(`<text x="${LABEL_WIDTH + 4}" y="${y0 + (p.series.length * BAR_HEIGHT) / 2 + 4}" class="note">${escapeXml(group.note ?? 'n/a')}</text>`);
      return parts.join('');
    }
    group.values.forEach((value, n) => {
      const y = y0 + n * BAR_HEIGHT;
      const fill = (group.highlight ? SHADES.highlight : SHADES.normal)[n % 3];
      if (!Number.isFinite(value)) {
        parts.push(`<text x="${LABEL_WIDTH + 4}" y="${y + BAR_HEIGHT - 2}" class="note small">did not start</text>`);
        return;
      }
      const end = x(value);
      parts.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${Math.max(1, end - LABEL_WIDTH).toFixed(1)}" height="${BAR_HEIGHT - 1}" fill="${fill}"/>`);
      parts.push(`<text x="${end + 4}" y="${y + BAR_HEIGHT - 2}" class="small">${escapeXml(formatValue(value, p.unit))}</text>`);
    });
    return parts.join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`,
    '<style>text{fill:#212529}.note{fill:#868e96;font-style:italic}.grid{stroke:#e9ecef;stroke-width:1}.title{font-weight:600;font-size:14px}.sub{fill:#495057;font-size:12px}.small{font-size:11px}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="20" class="title">${escapeXml(p.title)}</text>`,
    `<text x="12" y="36" class="sub">${escapeXml(`${p.unit}, logarithmic axis, lower is better; medians across runs`)}</text>`,
    ...grid,
    ...legend,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}
