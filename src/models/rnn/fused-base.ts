/**
 * What FusedGru and FusedLstm share: their constructor arguments and config, the output shape, and
 * the native-kernel path for a first layer that returns its last state (src/native/rnn.ts), used in
 * training and inference whenever the kernels are built. Each subclass adds its weights and tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeRnnInfer, nativeRnnSequence, useNativeRnn } from '../../native/rnn.js';

export interface FusedRecurrentArgs {
  units: number;
  /** Return every step's state [B, T, U] (for stacking) instead of the last [B, U]. */
  returnSequences?: boolean;
  /**
   * The input is data (first layer), so no gradient flows into it: per-step slices are built in
   * JS instead of tf.unstack. @default false
   */
  inputIsData?: boolean;
  seed?: number;
  inputShape?: number[];
  name?: string;
}

export abstract class FusedRecurrent extends tf.layers.Layer {
  readonly units: number;
  readonly returnSequences: boolean;
  readonly inputIsData: boolean;
  readonly seed?: number;

  constructor(args: FusedRecurrentArgs) {
    super(args);
    this.units = args.units;
    this.returnSequences = args.returnSequences ?? false;
    this.inputIsData = args.inputIsData ?? false;
    this.seed = args.seed;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return this.returnSequences ? [shape[0], shape[1], this.units] : [shape[0], this.units];
  }

  /**
   * The last state from the native kernel, or null when this layer cannot use it (not the first
   * layer, returns sequences, or the kernels are not built). `weights`: kernel, recurrent kernel,
   * bias, and for the GRU its recurrent bias.
   */
  protected nativeLastState(cell: 'gru' | 'lstm', x: tf.Tensor3D, weights: tf.LayerVariable[], training: boolean): tf.Tensor2D | null {
    if (!this.inputIsData || this.returnSequences || !useNativeRnn()) return null;
    const [k, r, bias, rbias] = weights.map((v) => v.read());
    return training
      ? nativeRnnSequence(cell, x, k as tf.Tensor2D, r as tf.Tensor2D, bias as tf.Tensor1D, (rbias as tf.Tensor1D | undefined) ?? null, this.units)
      : nativeRnnInfer(cell, x, k, r, bias, rbias ?? null, this.units);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, returnSequences: this.returnSequences, inputIsData: this.inputIsData, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
  }
}
