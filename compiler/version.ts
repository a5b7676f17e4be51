/** The version of rnnc, as package.json gives it (tests/abi.test.ts keeps the two equal); emitted headers show it. */
export const RNNC_VERSION = "0.1.0";
