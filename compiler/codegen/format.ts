/** Formats emitted modules with prettier, with fixed options so output is byte-identical. */
import * as prettier from "prettier";

export function formatModule(code: string): Promise<string> {
  return prettier.format(code, {
    parser: "typescript",
    printWidth: 100,
    semi: true,
    singleQuote: false,
    trailingComma: "all",
  });
}
