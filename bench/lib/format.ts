// Plain-text tables and number formatting for benchmark output.

export const int = (value: number) => Math.round(value).toLocaleString("en-US");
export const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : "n/a");
export const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : "n/a");

/** Left-aligns the first `left` columns (one by default) and right-aligns the others. */
export function table(rows: string[][], indent = "  ", left = 1): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows
    .map(
      (row) =>
        indent +
        row
          .map((cell, column) => (column < left ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
          .join("   "),
    )
    .join("\n");
}
