/** Every example cell's independent reference, at the `.cell` files' default sizes. */
import type { ReferenceCell } from "./bptt.js";
import { gruReference } from "./gru.js";
import { gruTorchReference } from "./gru_torch.js";
import { lnlstmReference } from "./lnlstm.js";
import { lstmReference } from "./lstm.js";
import { peepholeReference } from "./peephole.js";
import { reluRnnReference } from "./relu_rnn.js";
import { rnnReference } from "./rnn.js";

export const REFERENCES: readonly ReferenceCell[] = [
  rnnReference(), reluRnnReference(), lstmReference(), peepholeReference(), gruReference(), gruTorchReference(), lnlstmReference(),
] as ReferenceCell[];

export { rnnReference, reluRnnReference, lstmReference, peepholeReference, gruReference, gruTorchReference, lnlstmReference };
export * from "./bptt.js";
export { mulberry32 } from "./math.js";
