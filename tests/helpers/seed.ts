/**
 * The seed of a property test: fixed by default, so every run draws the same cases; with
 * `RNNC_SEED=random` a fresh one, and with `RNNC_SEED=<n>` that one, printed so that a failure
 * found by a fresh seed can be replayed:
 *
 *   RNNC_SEED=random npx vitest run tests/properties.test.ts
 *   RNNC_SEED=1234567 npx vitest run tests/properties.test.ts
 */
export function propertySeed(fixed: number, what: string): number {
  const env = process.env["RNNC_SEED"];
  if (env === undefined || env === "") return fixed;
  const seed = env === "random" ? Math.floor(Math.random() * 0x7fffffff) : Number(env);
  if (!Number.isSafeInteger(seed)) throw new Error(`RNNC_SEED=${env}: expected "random" or an integer`);
  console.log(`${what}: seed ${seed} (replay: RNNC_SEED=${seed})`);
  return seed;
}
