/** The sequence classifier's topology: [window, nFeatures] -> GRU/LSTM stack -> Dense(3, softmax). */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tf } from '../tf-backend.js';
import { FusedGru } from './fused-gru.js';
import { FusedLstm } from './fused-lstm.js';

export type RnnCell = 'gru' | 'lstm';

export interface RnnArchitecture {
  cell: RnnCell;
  units: number;
  layers: number;
  dropout: number;
  window: number;
  nFeatures: number;
  seed?: number;
  /**
   * 'fused': kilo's FusedGru/FusedLstm (~5x faster training on wasm, see fused-gru.ts);
   * 'layers': tf.layers.gru/lstm (kept for comparison in the bench). @default 'fused'
   */
  impl?: 'fused' | 'layers';
}

export const RNN_CLASSES = 3;

/**
 * Dropout is a separate seeded layer between recurrent layers and before the head rather than the
 * cell's own dropout/recurrentDropout: it is seedable, and recurrent dropout would disable the
 * fused per-step kernels the wasm backend runs fastest.
 */
export function buildRnnModel(tf: Tf, a: RnnArchitecture): tfNs.LayersModel {
  const seed = a.seed;
  // Distinct but reproducible seeds per initializer, so layers do not start identical.
  const s = (k: number) => (seed === undefined ? undefined : seed * 7919 + k);
  const model = tf.sequential();
  for (let i = 0; i < a.layers; i++) {
    const common = {
      units: a.units,
      returnSequences: i < a.layers - 1,
      // glorotUniform instead of the default orthogonal: same quality here, and orthogonal prints a
      // "Slowness may result" warning above the console UI.
      kernelInitializer: tf.initializers.glorotUniform({ seed: s(3 * i) }),
      recurrentInitializer: tf.initializers.glorotUniform({ seed: s(3 * i + 1) }),
      // tfjs defaults to hardSigmoid gates; sigmoid matches the fused layers, Keras 2.x and PyTorch.
      recurrentActivation: 'sigmoid' as const,
      ...(i === 0 ? { inputShape: [a.window, a.nFeatures] } : {}),
    };
    if ((a.impl ?? 'fused') === 'fused') {
      const { units, returnSequences } = common;
      const args = { units, returnSequences, inputIsData: i === 0, seed: s(3 * i), ...(i === 0 ? { inputShape: [a.window, a.nFeatures] } : {}) };
      model.add(a.cell === 'lstm' ? new FusedLstm(args) : new FusedGru(args));
    } else {
      model.add(a.cell === 'lstm' ? tf.layers.lstm(common) : tf.layers.gru(common));
    }
    if (a.dropout > 0) model.add(tf.layers.dropout({ rate: a.dropout, seed: s(3 * i + 2) }));
  }
  model.add(
    tf.layers.dense({
      units: RNN_CLASSES,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: s(1000) }),
    }),
  );
  return model;
}
