export * from './compute.js';
export * from './clean.js';
export * from './preprocess.js';
export * from './labels.js';
export * from './split.js';
export * from './dataset.js';
export * as indicators from './indicators.js';
