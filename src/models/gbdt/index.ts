export { trainGbdt, DEFAULT_GBDT_PARAMS, GbdtAbortedError, logLoss } from './train.js';
export { mulberry32 } from '../../util/random.js';
export type { GbdtDataset, GbdtParams, TrainGbdtOptions } from './train.js';
export { GbdtModel, GbdtModelFormatError, GbdtInputError } from './model.js';
export type { GbdtModelJSON, GbdtParamsRecord, RoundRecord } from './model.js';
export { fitCuts, binMatrix, binOf, BinningError, MAX_BINS } from './binning.js';
