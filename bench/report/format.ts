/** Number formatting shared by the tables and the charts. */
export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  let digits: number;
  if (unit === 'tasks/s' || unit === 'requests/s' || unit === 'MiB' || unit === 'CPU ms') digits = abs >= 100 ? 0 : 1;
  else if (unit === 'ms') digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  // Below 1, up to three significant digits (statements per task of a batching worker are a few hundredths).
  else if (abs > 0 && abs < 1) return value.toLocaleString('en-US', { maximumSignificantDigits: 3 });
  else digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return ratio > 0 ? '∞' : 'n/a';
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2)}×`;
}

export function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
