import { describe, expect, it } from "vitest";
import { escapeXml, heatmap, linePlot, niceTicks } from "../../src/train/plot.js";

function polylinePoints(svg: string): [number, number][][] {
  return [...svg.matchAll(/<polyline[^>]* points="([^"]*)"/g)].map((m) =>
    m[1]!.split(" ").map((p) => p.split(",").map(Number) as [number, number]),
  );
}

describe("linePlot", () => {
  it("draws one polyline per series inside the plot area, with a legend and escaped text", () => {
    const svg = linePlot(
      [
        { name: "train", values: [1, 0.5, 0.25, 0.125] },
        { name: "test <held out>", values: [1.2, 0.7, 0.4, 0.3] },
      ],
      { title: "loss & accuracy", width: 400, height: 300 },
    );
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("loss &amp; accuracy");
    expect(svg).toContain("test &lt;held out&gt;");
    const lines = polylinePoints(svg);
    expect(lines.map((l) => l.length)).toEqual([4, 4]);
    for (const [x, y] of lines.flat()) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(400);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(300);
    }
    // y grows downwards: the falling train curve's last point is lower on the page than its first
    expect(lines[0]![3]![1]).toBeGreaterThan(lines[0]![0]![1]);
  });

  it("leaves non-positive values out of a log axis and non-finite values out of any axis", () => {
    const svg = linePlot([{ name: "loss", values: [1, 0, 0.1, NaN, 0.01] }], { logY: true });
    expect(polylinePoints(svg)[0]).toHaveLength(3);
  });
});

describe("heatmap", () => {
  it("draws one cell per value, blue for the low end and red for the high end", () => {
    const svg = heatmap([-1, 0, 1, 0.5, -0.5, 0], 2, 3);
    const fills = [...svg.matchAll(/<rect x="\d+" y="\d+" width="8" height="8" fill="(#[0-9a-f]{6})"/g)].map(
      (m) => m[1],
    );
    expect(fills).toHaveLength(6);
    expect(fills[0]).toBe("#2166ac");
    expect(fills[1]).toBe("#f7f7f7");
    expect(fills[2]).toBe("#b2182b");
  });

  it("rejects a size that does not match the values", () => {
    expect(() => heatmap([1, 2, 3], 2, 2)).toThrow(/3 values for 2×2/);
  });
});

describe("helpers", () => {
  it("picks round ticks", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97)).toEqual([20, 40, 60, 80]);
    expect(escapeXml(`<a & "b">`)).toBe("&lt;a &amp; &quot;b&quot;&gt;");
  });
});
