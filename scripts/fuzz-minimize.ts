/**
 * Shrinks a failing cell while it still fails the same way: delta debugging over lines, then over
 * the items of declaration lists, then over tokens. Each trial is one run of the pipeline.
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

/** An item of a declaration list (`, W[H, I]`, `, H = 4`, or the first item with its comma). */
const ITEM = /,\s*[\p{L}_][\p{L}\p{N}_]*\s*(?:\[[^\]\n]*\]|=\s*\d+)?|(?<=\b(?:param|size|state|input)\s+)[\p{L}_][\p{L}\p{N}_]*\s*(?:\[[^\]\n]*\]|=\s*\d+)?\s*,\s*/gu;

/** Drops list items one at a time, last first, while the failure stays. */
async function dropItems(text: string, fails: StillFails): Promise<string> {
  const items = [...text.matchAll(ITEM)].reverse();
  for (const m of items) {
    const trial = text.slice(0, m.index) + text.slice(m.index + m[0].length);
    if (await fails(trial)) text = trial;
  }
  return text;
}

export async function minimize(text: string, fails: StillFails, log: (s: string) => void): Promise<string> {
  let lines = await ddmin(text.split("\n"), (ls) => ls.join("\n"), fails);
  log(`lines: ${text.split("\n").length} → ${lines.length}`);
  lines = (await dropItems(lines.join("\n"), fails)).split("\n");
  const tokens = await ddmin(lines.join("\n").match(TOKEN) ?? [], (ts) => ts.join(""), fails);
  log(`tokens: → ${tokens.length}`);
  return tidy(await dropItems(tokens.join(""), fails), fails);
}
