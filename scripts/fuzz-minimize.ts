/**
 * Shrinks a failing cell while it still fails the same way: delta debugging over lines, then over
 * tokens, then a pass that shortens names and numbers. Each trial is one run of the pipeline.
 */

export type StillFails = (text: string) => Promise<boolean>;

const TOKEN = /\s+|[\p{L}_][\p{L}\p{N}_]*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[\s\S]/gu;

/** Removes chunks of `parts` (halving the chunk size) while `join(parts)` still fails. */
async function ddmin(parts: string[], join: (ps: string[]) => string, fails: StillFails): Promise<string[]> {
  let chunk = Math.max(1, Math.floor(parts.length / 2));
  while (chunk >= 1) {
    let removed = false;
    for (let at = 0; at < parts.length; ) {
      const trial = [...parts.slice(0, at), ...parts.slice(at + chunk)];
      if (trial.length < parts.length && (await fails(join(trial)))) {
        parts = trial;
        removed = true;
      } else at += chunk;
    }
    if (!removed) chunk = Math.floor(chunk / 2);
  }
  return parts;
}

/** Collapses runs of blank space to one space or newline, where the failure allows it. */
async function tidy(text: string, fails: StillFails): Promise<string> {
  const squeezed = text.replace(/[ \t]+/g, " ").replace(/\n\s*\n/g, "\n");
  return squeezed !== text && (await fails(squeezed)) ? squeezed : text;
}

export async function minimize(text: string, fails: StillFails, log: (s: string) => void): Promise<string> {
  let lines = await ddmin(text.split("\n"), (ls) => ls.join("\n"), fails);
  log(`lines: ${text.split("\n").length} → ${lines.length}`);
  const tokens = await ddmin(lines.join("\n").match(TOKEN) ?? [], (ts) => ts.join(""), fails);
  log(`tokens: → ${tokens.length}`);
  lines = (await tidy(tokens.join(""), fails)).split("\n");
  return lines.join("\n");
}
