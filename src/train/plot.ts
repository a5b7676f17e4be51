/**
 * SVG figures as plain strings, no dependencies: line plots (loss curves, prediction vs truth) and
 * heatmaps (hidden states over time, as seed 001 shows them).
 */

export interface Series {
  readonly name: string;
  /** y values; x is the index unless `x` is given. */
  readonly values: readonly number[];
  readonly x?: readonly number[];
  readonly color?: string;
}

export interface LinePlotOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
  /** A logarithmic y axis (for losses spanning decades); non-positive values are left out. */
  readonly logY?: boolean;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const MARGIN = { left: 64, right: 16, top: 36, bottom: 48 };

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** About `count` round tick values covering [low, high] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!(high > low)) return [low];
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function formatTick(value: number): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  return magnitude >= 1e5 || magnitude < 1e-3 ? value.toExponential(1) : String(Number(value.toPrecision(4)));
}

function svgDocument(width: number, height: number, body: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attributes === "" ? "" : " " + attributes}>${escapeXml(content)}</text>`;
}

function titleAndLabels(options: LinePlotOptions, width: number, height: number): string[] {
  const parts: string[] = [];
  if (options.title !== undefined)
    parts.push(text(width / 2, 20, options.title, `text-anchor="middle" font-size="14"`));
  if (options.xLabel !== undefined)
    parts.push(text(width / 2, height - 10, options.xLabel, `text-anchor="middle"`));
  if (options.yLabel !== undefined) {
    parts.push(
      text(16, height / 2, options.yLabel, `text-anchor="middle" transform="rotate(-90 16 ${height / 2})"`),
    );
  }
  return parts;
}

/** A line plot of one or more series, with axes, ticks and a legend. */
export function linePlot(series: readonly Series[], options: LinePlotOptions = {}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const transform = options.logY === true ? Math.log10 : (y: number) => y;
  const points = series.map((s) =>
    s.values
      .map((y, i) => [s.x?.[i] ?? i, y] as const)
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (options.logY !== true || y > 0))
      .map(([x, y]) => [x, transform(y)] as const),
  );
  const all = points.flat();
  const [xMin, xMax] = extent(all.map(([x]) => x));
  const [yMin, yMax] = extent(all.map(([, y]) => y));
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const py = (y: number) => MARGIN.top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight;

  const body: string[] = [...titleAndLabels(options, width, height)];
  body.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
  );
  for (const tick of niceTicks(xMin, xMax)) {
    body.push(
      `<line x1="${px(tick).toFixed(1)}" y1="${MARGIN.top + plotHeight}" x2="${px(tick).toFixed(1)}" y2="${MARGIN.top + plotHeight + 4}" stroke="#999"/>`,
    );
    body.push(text(px(tick), MARGIN.top + plotHeight + 16, formatTick(tick), `text-anchor="middle"`));
  }
  for (const tick of niceTicks(yMin, yMax)) {
    const label = options.logY === true ? formatTick(10 ** tick) : formatTick(tick);
    body.push(
      `<line x1="${MARGIN.left}" y1="${py(tick).toFixed(1)}" x2="${MARGIN.left + plotWidth}" y2="${py(tick).toFixed(1)}" stroke="#eee"/>`,
    );
    body.push(text(MARGIN.left - 6, py(tick) + 4, label, `text-anchor="end"`));
  }
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const coordinates = points[k]!.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
    body.push(
      `<polyline fill="none" stroke="${escapeXml(color)}" stroke-width="1.5" points="${coordinates}"/>`,
    );
    const legendY = MARGIN.top + 14 + 16 * k;
    body.push(
      `<line x1="${MARGIN.left + plotWidth - 120}" y1="${legendY - 4}" x2="${MARGIN.left + plotWidth - 100}" y2="${legendY - 4}" stroke="${escapeXml(color)}" stroke-width="2"/>`,
    );
    body.push(text(MARGIN.left + plotWidth - 94, legendY, s.name));
  });
  return svgDocument(width, height, body);
}

/** [min, max] of finite values, widened when empty or flat so that scales never divide by zero. */
function extent(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const low = Math.min(...values);
  const high = Math.max(...values);
  return high > low ? [low, high] : [low - 0.5, high + 0.5];
}

export interface HeatmapOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Pixel size of one cell; default 8. */
  readonly cellSize?: number;
  /** Values mapped to the ends of the colour scale; default ± the largest magnitude. */
  readonly range?: readonly [number, number];
}

/**
 * A heatmap of a `[rows][cols]` matrix (e.g. hidden units × time steps), blue for low, white for
 * the middle of the range, red for high.
 */
export function heatmap(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  options: HeatmapOptions = {},
): string {
  if (values.length !== rows * cols) throw new Error(`heatmap: ${values.length} values for ${rows}×${cols}`);
  const size = options.cellSize ?? 8;
  const largest = Array.from(values).reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  const [low, high] = options.range ?? [-largest || -1, largest || 1];
  const width = MARGIN.left + cols * size + MARGIN.right;
  const height = MARGIN.top + rows * size + MARGIN.bottom;
  const body = titleAndLabels(options, width, height);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const fill = divergingColor((values[r * cols + c]! - low) / (high - low));
      body.push(
        `<rect x="${MARGIN.left + c * size}" y="${MARGIN.top + r * size}" width="${size}" height="${size}" fill="${fill}"/>`,
      );
    }
  }
  for (const tick of niceTicks(0, cols - 1)) {
    if (!Number.isInteger(tick)) continue;
    body.push(
      text(
        MARGIN.left + (tick + 0.5) * size,
        MARGIN.top + rows * size + 16,
        String(tick),
        `text-anchor="middle"`,
      ),
    );
  }
  return svgDocument(width, height, body);
}

/** Blue (0) → white (0.5) → red (1); values outside [0, 1] are clamped, NaN is grey. */
function divergingColor(position: number): string {
  if (Number.isNaN(position)) return "#888888";
  const p = Math.min(1, Math.max(0, position));
  const [from, to, f] =
    p < 0.5 ? [[33, 102, 172], [247, 247, 247], p / 0.5] : [[247, 247, 247], [178, 24, 43], (p - 0.5) / 0.5];
  const channel = (k: number) =>
    Math.round(from[k]! + (to[k]! - from[k]!) * f)
      .toString(16)
      .padStart(2, "0");
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}
