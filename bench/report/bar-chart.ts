/**
 * A horizontal bar chart as an SVG document, written by hand (no charting dependency): one bar per
 * system at its median, a thin line from the lowest to the highest sample, the value at the bar's end.
 */
import { escapeXml, formatValue } from './format.ts';

export interface Bar {
  label: string;
  median: number;
  min: number;
  max: number;
  /** Conveyor's bars are drawn in the accent colour. */
  highlight: boolean;
  /** Shown instead of the value for a bar that has none (`n/a`, `did not finish`). */
  note?: string;
}

const WIDTH = 760;
const LABEL_WIDTH = 210;
const VALUE_WIDTH = 110;
const BAR_HEIGHT = 22;
const GAP = 8;
const TOP = 44;
const BOTTOM = 26;

export function barChart(p: { title: string; unit: string; better: 'higher' | 'lower'; bars: Bar[] }): string {
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const finite = p.bars.flatMap((bar) => [bar.median, bar.max]).filter((v) => Number.isFinite(v));
  const top = Math.max(...finite, 0) || 1;
  const scale = (value: number) => (Math.max(0, value) / top) * plotWidth;
  const height = TOP + p.bars.length * (BAR_HEIGHT + GAP) + BOTTOM;
  const rows = p.bars.map((bar, n) => {
    const y = TOP + n * (BAR_HEIGHT + GAP);
    const label = `<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT / 2 + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`;
    if (!Number.isFinite(bar.median)) {
      return `${label}<text x="${LABEL_WIDTH + 4}" y="${y + BAR_HEIGHT / 2 + 4}" class="note">${escapeXml(bar.note ?? 'n/a')}</text>`;
    }
    const width = Math.max(1, scale(bar.median));
    const fill = bar.highlight ? '#d9480f' : '#868e96';
    const whisker =
      Number.isFinite(bar.min) && Number.isFinite(bar.max) && bar.max > bar.min
        ? `<line x1="${LABEL_WIDTH + scale(bar.min)}" x2="${LABEL_WIDTH + scale(bar.max)}" y1="${y + BAR_HEIGHT / 2}" y2="${y + BAR_HEIGHT / 2}" class="whisker"/>`
        : '';
    const value = `${formatValue(bar.median, p.unit)}${bar.note ? ' *' : ''}`;
    return `${label}<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${fill}"/>${whisker}<text x="${LABEL_WIDTH + width + 6}" y="${y + BAR_HEIGHT / 2 + 4}">${escapeXml(value)}</text>`;
  });
  const subtitle = `${p.unit}, ${p.better} is better; bar = median, line = lowest to highest run${p.bars.some((b) => b.note && Number.isFinite(b.median)) ? '; * = see notes' : ''}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`,
    '<style>text{fill:#212529}.note{fill:#868e96;font-style:italic}.whisker{stroke:#212529;stroke-width:1.5}.title{font-weight:600;font-size:14px}.sub{fill:#495057;font-size:12px}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="20" class="title">${escapeXml(p.title)}</text>`,
    `<text x="12" y="36" class="sub">${escapeXml(subtitle)}</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}
