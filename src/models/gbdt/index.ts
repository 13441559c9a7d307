export { trainGbdt, DEFAULT_GBDT_PARAMS, GbdtAbortedError, GbdtGrowerUnavailableError, logLoss } from './train.js';
export { mulberry32 } from '../../util/random.js';
export type { GbdtDataset, GbdtParams, GrowerInfo, TrainGbdtOptions } from './train.js';
export { nativeGbdtStatus, NATIVE_GBDT_PATH } from './native.js';
export type { GrowerStats, NativeGbdtStatus } from './native.js';
export { GbdtModel, GbdtModelFormatError, GbdtInputError } from './model.js';
export type { GbdtModelJSON, GbdtParamsRecord, RoundRecord } from './model.js';
export { fitCuts, fitBins, binMatrix, binOf, BinningError, MAX_BINS } from './binning.js';
