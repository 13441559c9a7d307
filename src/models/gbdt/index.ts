export { trainGbdt, DEFAULT_GBDT_PARAMS, GbdtAbortedError, logLoss, mulberry32 } from './train.js';
export type { GbdtDataset, GbdtParams, TrainGbdtOptions } from './train.js';
export { GbdtModel, GbdtModelFormatError, GbdtInputError } from './model.js';
export type { GbdtModelJSON, GbdtParamsRecord, RoundRecord } from './model.js';
export { fitCuts, binMatrix, binOf, BinningError, MAX_BINS } from './binning.js';
