import { createHash } from 'node:crypto';
import type { ReportRow, ReportSource } from './report-source.ts';

const DAY_MS = 86_400_000;

/**
 * `sales`: the report_type of the guide's example. Conveyor has no sales data, so this source makes
 * up example figures, clearly labelled as such: one row per UTC day of the range, each number derived
 * from a hash of the date, so the same range always gives the same report (and the guide's example
 * completes with a real file). Real reports read real data: see task_activity, failure_reasons and
 * durations.
 */
export const salesDemoSource: ReportSource = {
  name: 'sales',
  description: 'DEMO DATA: example daily sales figures generated deterministically from each date (Conveyor holds no sales data).',
  columns: ['date', 'orders', 'units', 'revenue'],
  async rows({ start, end }) {
    const rows: ReportRow[] = [];
    for (let day = Math.floor(start.getTime() / DAY_MS) * DAY_MS; day < end.getTime(); day += DAY_MS) {
      const date = new Date(day).toISOString().slice(0, 10);
      const seed = createHash('sha256').update(`conveyor-sales-demo:${date}`).digest();
      const orders = 20 + (seed[0]! % 80);
      const units = orders + (seed[1]! % (orders * 2));
      const cents = units * (999 + (seed[2]! * 16 + (seed[3]! % 16)));
      rows.push({ date, orders, units, revenue: cents / 100 });
    }
    return rows;
  },
};
