/**
 * Whole-sequence GRU with a hand-written backward pass (backprop through time), for the common
 * training case: first layer (data input), last state only. Versus per-step autodiff it
 * (a) records one tape node instead of ~20 per step, and (b) computes the weight gradients as six
 * big [*, T*B] x [T*B, U] matmuls after the loop instead of 6 small ones per step.
 * Same function as FusedGru's per-step path (checked in test/models/rnn-fused.test.ts).
 */
import * as tf from '@tensorflow/tfjs';

export interface GruWeights {
  wz: tf.Tensor2D; wr: tf.Tensor2D; wh: tf.Tensor2D;
  uz: tf.Tensor2D; ur: tf.Tensor2D; uh: tf.Tensor2D;
  bz: tf.Tensor1D; br: tf.Tensor1D; bh: tf.Tensor1D; rb: tf.Tensor1D;
}

/** x is [B, T, F] data; returns the last state [B, U] with gradients for every weight. */
export function gruSequence(x: tf.Tensor3D, w: GruWeights, units: number): tf.Tensor2D {
  const [b, t] = x.shape;
  const { steps, xT } = timeMajorSteps(x);

  const fn = tf.customGrad(((...args: unknown[]) => {
    const [wz, wr, wh, uz, ur, uh, bz, br, bh, rb] = args.slice(0, 10) as [
      tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D,
    ];
    const save = args[10] as tf.GradSaveFunc;
    let h: tf.Tensor2D = tf.zeros([b, units]);
    const keep: tf.Tensor[] = [];
    for (let s = 0; s < t; s++) {
      const z = tf.sigmoid(tf.add(tf.fused.matMul({ a: steps[s], b: wz, bias: bz }), tf.matMul(h, uz)));
      const r = tf.sigmoid(tf.add(tf.fused.matMul({ a: steps[s], b: wr, bias: br }), tf.matMul(h, ur)));
      const hh = tf.fused.matMul({ a: h, b: uh, bias: rb });
      const c = tf.tanh(tf.add(tf.fused.matMul({ a: steps[s], b: wh, bias: bh }), tf.mul(r, hh)));
      keep.push(h, z, r, hh, c);
      h = tf.add(c, tf.mul(z, tf.sub(h, c))) as tf.Tensor2D;
    }
    save([...keep, xT, uz, ur, uh]);
    return {
      value: h,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const n = t * 5;
        const [suz, sur, suh] = saved.slice(n + 1) as tf.Tensor2D[];
        const [uzT, urT, uhT] = [suz, sur, suh].map((m) => tf.transpose(m));
        const dAz: tf.Tensor[] = new Array(t);
        const dAr: tf.Tensor[] = new Array(t);
        const dAc: tf.Tensor[] = new Array(t);
        const dHh: tf.Tensor[] = new Array(t);
        let dh: tf.Tensor = dy;
        for (let s = t - 1; s >= 0; s--) {
          const [hp, z, r, hh, c] = saved.slice(s * 5, s * 5 + 5);
          const dc = tf.mul(dh, tf.sub(1, z));
          const dz = tf.mul(dh, tf.sub(hp, c));
          const dac = tf.mul(dc, tf.sub(1, tf.square(c)));
          const dhh = tf.mul(dac, r);
          const daz = tf.mul(dz, tf.mul(z, tf.sub(1, z)));
          const dar = tf.mul(tf.mul(dac, hh), tf.mul(r, tf.sub(1, r)));
          dh = tf.addN([tf.mul(dh, z), tf.matMul(daz, uzT), tf.matMul(dar, urT), tf.matMul(dhh, uhT)]);
          dAz[s] = daz;
          dAr[s] = dar;
          dAc[s] = dac;
          dHh[s] = dhh;
        }
        const sxT = saved[n] as tf.Tensor2D;
        const hT = tf.transpose(tf.concat(Array.from({ length: t }, (_, s) => saved[s * 5]), 0)); // [U, T*B]
        const [az, ar, ac, ahh] = [dAz, dAr, dAc, dHh].map((l) => tf.concat(l, 0) as tf.Tensor2D);
        // Column sums as a ones-row matmul: wasm's axis-0 sum transposes first and is ~10x slower.
        const ones = tf.ones([1, t * b]) as tf.Tensor2D;
        const colSum = (m: tf.Tensor2D) => tf.reshape(tf.matMul(ones, m), [units]);
        return [
          tf.matMul(sxT, az), tf.matMul(sxT, ar), tf.matMul(sxT, ac),
          tf.matMul(hT, az), tf.matMul(hT, ar), tf.matMul(hT, ahh),
          colSum(az), colSum(ar), colSum(ac), colSum(ahh),
        ];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return fn(w.wz, w.wr, w.wh, w.uz, w.ur, w.uh, w.bz, w.br, w.bh, w.rb) as tf.Tensor2D;
}

/** Time-major per-step inputs [B, F] and X^T [F, T*B] (for the weight gradients), built in JS. */
export function timeMajorSteps(x: tf.Tensor3D): { steps: tf.Tensor2D[]; xT: tf.Tensor2D } {
  const [b, t, f] = x.shape;
  const v = x.dataSync() as Float32Array;
  const steps: tf.Tensor2D[] = [];
  const xt = new Float32Array(f * t * b);
  for (let s = 0; s < t; s++) {
    const row = new Float32Array(b * f);
    for (let i = 0; i < b; i++) {
      const src = (i * t + s) * f;
      for (let k = 0; k < f; k++) {
        row[i * f + k] = v[src + k];
        xt[k * t * b + s * b + i] = v[src + k];
      }
    }
    steps.push(tf.tensor2d(row, [b, f]));
  }
  return { steps, xT: tf.tensor2d(xt, [f, t * b]) };
}
