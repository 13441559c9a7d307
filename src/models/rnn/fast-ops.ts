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
