export { buildRnnModel, RNN_CLASSES, type RnnArchitecture, type RnnCell } from './model.js';
export { balancedClassWeights, RnnInputError, validateSequenceData, type SequenceData } from './data.js';
export {
  trainRnn,
  evaluate as evaluateRnn,
  type RnnEpochInfo,
  type RnnHistoryEntry,
  type RnnHooks,
  type RnnParams,
  type RnnTrainResult,
} from './train.js';
export { predictRnn } from './predict.js';
export { mulberry32, permutation, type Rng } from './random.js';
export { FusedGru } from './fused-gru.js';
export { FusedLstm } from './fused-lstm.js';
export { registerRnnLayers } from './layers.js';
