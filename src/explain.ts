/** `rnnc explain CODE`: the long description of a diagnostic code, an example of it (as rnnc reports it) and its fix. */
import { renderDiagnostics } from "../compiler/diagnostics.js";
import { EXPLANATIONS } from "../compiler/explain.js";
import { nearest } from "../compiler/messages.js";
import { UsageError } from "./args.js";
import { oneFile, type CommandEntry } from "./commands.js";
import { checkText } from "./front.js";

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
  args: "CODE",
  summary: "Explain a diagnostic code (E3002, W3002): what it means, an example and its fix",
  options: {},
  async run(files, _flags, ctx) {
    const code = oneFile(files).toUpperCase();
    if (!EXPLANATIONS[code]) {
      const near = nearest(code, Object.keys(EXPLANATIONS));
      throw new UsageError(`no diagnostic code '${files[0]}'${near ? `; did you mean '${near}'?` : ""} (codes look like E3002 or W3002)`);
    }
    ctx.out(explainCode(code));
    return 0;
  },
};
