/**
 * Matmul with a gradient that the tfjs wasm backend runs fast. Measured here (tfjs 4.22 wasm,
 * [256x64]x[64x192]): matMul with transposeA/transposeB takes ~10x longer than an explicit
 * tf.transpose followed by a plain matMul, and tfjs's own matMul gradient uses the transposed
 * forms. Also: wasm Slice copies the whole source tensor, so slicing big tensors per timestep is
 * O(T * size); callers slice only small tensors.
 */
import * as tf from '@tensorflow/tfjs';

/** a [m,k] x b [k,n] (+ bias [n]), gradients via explicit transposes. */
export const linear: (a: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor2D = tf.customGrad(
  // customGrad's typing wants a variadic (...inputs, save) signature.
  ((a: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: tf.fused.matMul({ a, b, bias }),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy), tf.sum(dy, 0)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor2D;

/** a [m,k] x b [k,n] without bias, same fast gradient. */
export const matmul: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  ((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * a x b + bias where `a` is data (no gradient needed) and `aT` its transpose built in JS: the
 * weight gradient aT x dy needs no per-step transpose op.
 */
export function linearData(a: tf.Tensor2D, aT: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const f = tf.customGrad(((bb: tf.Tensor2D, bbias: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([aT]);
    return {
      value: tf.fused.matMul({ a, b: bb, bias: bbias }),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [tf.matMul(saved[0] as tf.Tensor2D, dy), tf.sum(dy, 0)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(b, bias) as tf.Tensor2D;
}

/** h x u with u's transpose precomputed once per batch (`uT`), so the backward step only transposes h. */
export function matmulT(h: tf.Tensor2D, u: tf.Tensor2D, uT: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((hh: tf.Tensor2D, uu: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([hh, uT]);
    return {
      value: tf.matMul(hh, uu),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sh, suT] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy, suT), tf.matMul(tf.transpose(sh), dy)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(h, u) as tf.Tensor2D;
}

/**
 * Per-timestep [B, F] inputs and their [F, B] transposes, built in JS from one read of the input.
 * Only for data inputs (no gradient flows back into them); replaces tf.unstack, whose wasm
 * slices each copy the whole input.
 */
export function dataSteps(x: tf.Tensor3D, withTransposes = true): { steps: tf.Tensor2D[]; stepsT: tf.Tensor2D[] | undefined } {
  const [b, t, f] = x.shape;
  const v = x.dataSync() as Float32Array;
  const steps: tf.Tensor2D[] = [];
  const stepsT: tf.Tensor2D[] = [];
  for (let s = 0; s < t; s++) {
    const row = new Float32Array(b * f);
    for (let i = 0; i < b; i++) row.set(v.subarray((i * t + s) * f, (i * t + s + 1) * f), i * f);
    steps.push(tf.tensor2d(row, [b, f]));
    if (withTransposes) {
      const col = new Float32Array(f * b);
      for (let i = 0; i < b; i++) for (let k = 0; k < f; k++) col[k * b + i] = row[i * f + k];
      stepsT.push(tf.tensor2d(col, [f, b]));
    }
  }
  return { steps, stepsT: withTransposes ? stepsT : undefined };
}
