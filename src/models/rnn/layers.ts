import * as tf from '@tensorflow/tfjs';
import { FusedGru } from './fused-gru.js';
import { FusedLstm } from './fused-lstm.js';

/** Make kilo's recurrent layers loadable by tf.loadLayersModel (idempotent: re-registering is a no-op). */
export function registerRnnLayers(): void {
  tf.serialization.registerClass(FusedGru);
  tf.serialization.registerClass(FusedLstm);
}
