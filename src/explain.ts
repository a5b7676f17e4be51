/** `rnnc explain CODE`: the long description of a diagnostic code, an example of it (as rnnc reports it) and its fix. */
import { renderDiagnostics } from "../compiler/diagnostics.js";
import { EXPLANATIONS } from "../compiler/explain.js";
import { nearest } from "../compiler/messages.js";
import { UsageError } from "./args.js";
import { OPT, chosenCells, onlyCell, oneFile, str, type CommandEntry, type Flags } from "./commands.js";
import type { EquationFormat } from "../compiler/equations.js";
import { checkText } from "../compiler/front.js";
import type { Context } from "./report.js";

const indent = (text: string) => text.trimEnd().split("\n").map((l) => `    ${l}`).join("\n");

/** The explanation of `code` as the command prints it. */
export function explainCode(code: string): string {
  const e = EXPLANATIONS[code];
  if (!e) throw new Error(`no explanation for ${code}`);
  const out = [`${code}: ${e.title}`, "", e.text];
  if (e.example) {
    const file = checkText("example.cell", e.example);
    const shown = file.diagnostics.filter((d) => d.code === code);
    out.push("", "For example:", "", indent(e.example), "", "is reported as:", "", indent(renderDiagnostics(shown, file.source)));
  }
  if (e.fix) out.push("", "Fixed:", "", indent(e.fix));
  return out.join("\n");
}

export const explain: CommandEntry = {
  name: "explain",
  args: "CELL.cell|CODE",
  summary: "Print a cell's derived backward as equations, or explain a diagnostic code (E3002, W3002)",
  details: "rnnc explain lstm.cell: the forward step and its backward, one line a value, each gradient with the forward\n" +
    "equation it comes from. rnnc explain E3002: what the code means, an example as rnnc reports it, and its fix.",
  options: {
    cell: OPT.cell,
    size: OPT.size,
    "after-passes": { type: "boolean", help: "show the step after the optimizing passes (fusion, stacked products)" },
    format: { type: "string", value: "text|markdown|latex", help: "how the equations are written (default text)" },
  },
  async run(files, flags, ctx) {
    const target = oneFile(files);
    if (/\.cell$/i.test(target) || !/^[EW]\d{4}$/i.test(target)) return explainCell(target, flags, ctx);
    const code = target.toUpperCase();
    if (!EXPLANATIONS[code]) {
      const near = nearest(code, Object.keys(EXPLANATIONS));
      throw new UsageError(`no diagnostic code '${files[0]}'${near ? `; did you mean '${near}'?` : ""} (codes look like E3002 or W3002)`);
    }
    ctx.out(explainCode(code));
    return 0;
  },
};

/** `rnnc explain CELL.cell`: each chosen cell's step and derived backward as equations. */
async function explainCell(path: string, flags: Flags, ctx: Context): Promise<number> {
  const format = str(flags, "format") ?? "text";
  if (format !== "text" && format !== "markdown" && format !== "latex") throw new UsageError(`--format: expected text, markdown or latex, got '${format}'`);
  const chosen = await chosenCells(path, flags, ctx);
  if (!chosen) return 1;
  // The pipeline up to the passes is loaded when a cell is explained, not for every command.
  const [{ explainBackward }, { optimize }, { differentiated }] = await Promise.all([import("../compiler/equations.js"), import("../compiler/passes/index.js"), import("./front.js")]);
  const texts = chosen.cells.map((cell) => {
    const ir = differentiated(cell);
    const names = new Set([...cell.equations.map((e) => e.target), ...cell.outputs.map((o) => o.name)]);
    return explainBackward(flags["after-passes"] ? optimize(ir) : ir, format as EquationFormat, names);
  });
  ctx.out(texts.join("\n\n"));
  return 0;
}
