/** Source text of one `.cell` file, with byte-offset spans mapped to lines and columns. */

export interface Span {
  /** Offset of the first character (UTF-16 code units). */
  readonly start: number;
  /** Offset one past the last character. */
  readonly end: number;
}

export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, counted in code points. */
  readonly col: number;
}

export class Source {
  private readonly lineStarts: number[];
  private counted = { start: -1, end: -1, count: 0 };

  constructor(
    readonly path: string,
    readonly text: string,
  ) {
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
  }

  /** The 0-based index of the line holding `offset`. */
  lineIndex(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  position(offset: number): Position {
    const line = this.lineIndex(offset);
    return { line: line + 1, col: this.codePoints(this.lineStarts[line]!, offset) + 1 };
  }

  /**
   * Code points in `[start, end)`, counted without copying the text. Counts go on from the last
   * one where they can, so positions asked for in order along one long line cost its length once.
   */
  codePoints(start: number, end: number): number {
    let [at, count] = this.counted.start === start && this.counted.end <= end ? [this.counted.end, this.counted.count] : [start, 0];
    for (; at < end; at++) if (!(at > start && isLow(this.text.charCodeAt(at)) && isHigh(this.text.charCodeAt(at - 1)))) count++;
    this.counted = { start, end: Math.max(at, start), count };
    return count;
  }

  /** The offsets of 1-based line `line`, without its line break (and a `\r` before it). */
  lineSpan(line: number): Span {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    const next = this.lineStarts[line];
    let end = next === undefined ? this.text.length : next - 1;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return { start, end };
  }

  /** The text of 1-based line `line`, without its line break. */
  lineText(line: number): string {
    return this.slice(this.lineSpan(line));
  }

  slice(span: Span): string {
    return this.text.slice(span.start, span.end);
  }
}

const isHigh = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLow = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

export function span(start: number, end: number): Span {
  return { start, end };
}

export function cover(a: Span, b: Span): Span {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}
