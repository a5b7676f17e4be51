/** `rnnc graph`: one cell's step (or its derived backward) as a picture: DOT, SVG or Mermaid, one picture a file. */
import { writeFile } from "node:fs/promises";
import { FileError, UsageError, describeFileError } from "./args.js";
import { OPT, chosenCells, oneFile, onlyCell, str, type CommandEntry } from "./commands.js";

export const graph: CommandEntry = {
  name: "graph",
  args: "FILE.cell",
  summary: "Draw a cell's step as a compute graph, or with --backward its derived gradient graph",
  details: "An SVG or Mermaid picture, or a file written with --out, is one cell: a file with several needs --cell\n" +
    "(DOT on standard output lists them one after another). Exit codes: 0 drawn, 1 an error, 2 usage.",
  options: {
    cell: OPT.cell,
    size: OPT.size,
    backward: { type: "boolean", help: "draw the backward (gradient) graph too" },
    format: { type: "string", value: "dot|svg|mermaid", help: "the picture's language (default dot)" },
    out: { type: "string", short: "o", value: "FILE", help: "write the picture to FILE instead of standard output" },
    "deny-warnings": OPT.denyWarnings,
  },
  async run(files, flags, ctx) {
    const path = oneFile(files);
    const format = str(flags, "format") ?? "dot";
    if (format !== "dot" && format !== "svg" && format !== "mermaid") throw new UsageError(`--format: expected dot, svg or mermaid, got '${format}'`);
    const chosen = await chosenCells(path, flags, ctx);
    if (!chosen) return 1;
    const out = str(flags, "out");
    // DOT holds several graphs one after another; an SVG document or a Mermaid diagram is one picture.
    const cells = format === "dot" && out === undefined ? chosen.cells : [onlyCell(chosen.cells, path, `: one ${format === "dot" ? "file" : format} picture is one cell`)];
    // Lowering, autodiff and drawing are loaded when a graph is drawn, not for every command.
    const [{ drawGraph }, { dce }, { differentiated }] = await Promise.all([import("../compiler/ir/draw.js"), import("../compiler/passes/dce.js"), import("./front.js")]);
    const texts = cells.map((cell) => drawGraph(dce(differentiated(cell)), format === "mermaid" ? "mermaid" : "dot", flags["backward"] === true));
    const picture = format === "svg" ? await toSvg(texts[0]!) : texts.join("\n");
    if (out === undefined) {
      ctx.out(picture);
      return 0;
    }
    try {
      await writeFile(out, picture.endsWith("\n") ? picture : `${picture}\n`);
    } catch (e) {
      throw new FileError(describeFileError(e, "write", out) ?? String(e));
    }
    ctx.out(`wrote ${out}`);
    return 0;
  },
};

async function toSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  return (await instance()).renderString(dot, { format: "svg", engine: "dot" });
}
