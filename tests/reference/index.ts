/** Every example cell's independent reference, at the `.cell` files' default sizes. */
import type { ReferenceCell } from "./bptt.js";
import { gruReference } from "./gru.js";
import { gruTorchReference } from "./gru_torch.js";
import { lnlstmReference } from "./lnlstm.js";
import { lstmReference } from "./lstm.js";
import { mingruReference } from "./mingru.js";
import { minlstmReference } from "./minlstm.js";
import { mlstmReference } from "./mlstm.js";
import { peepholeReference } from "./peephole.js";
import { reluRnnReference } from "./relu_rnn.js";
import { rnnReference } from "./rnn.js";
import { rwkv4Reference } from "./rwkv4.js";
import { s6Reference } from "./s6.js";
import { slstmReference } from "./slstm.js";

export const REFERENCES: readonly ReferenceCell[] = [
  rnnReference(), reluRnnReference(), lstmReference(), peepholeReference(), gruReference(), gruTorchReference(), lnlstmReference(),
  mingruReference(), minlstmReference(), slstmReference(), mlstmReference(), rwkv4Reference(), s6Reference(),
] as ReferenceCell[];

export {
  rnnReference, reluRnnReference, lstmReference, peepholeReference, gruReference, gruTorchReference, lnlstmReference,
  mingruReference, minlstmReference, slstmReference, mlstmReference, rwkv4Reference, s6Reference,
};
export * from "./bptt.js";
export { mulberry32 } from "./math.js";
