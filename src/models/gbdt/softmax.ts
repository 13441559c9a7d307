/**
 * The boosting loop's per-row softmax -> (gradient, hessian) pass, shared by both growers: the
 * TypeScript grower runs it here, the native grower runs the same operations in C
 * (native/kilo_gbdt_grow.c kg_gradients), on two threads. Bit-identical results need an exp that
 * is the same in both languages, so this file carries its own: the classic fdlibm algorithm
 * (reduction by k ln2 with ln2 split in two, a degree-5 rational correction, scaling by 2^k),
 * plain IEEE operations only. It returns exactly what V8's Math.exp returns (V8 uses fdlibm too;
 * checked on millions of inputs in test/models/gbdt-native.test.ts), but it does not depend on
 * that staying true.
 */
const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.442695040888963387;
const HALF_LN2 = 0.34657359027997264;
const THREE_HALF_LN2 = 1.0397207708399179;
const P1 = 1.66666666666666019037e-1;
const P2 = -2.77777777770155933842e-3;
const P3 = 6.61375632143793436117e-5;
const P4 = -1.65339022054652515390e-6;
const P5 = 4.13813679705723846039e-8;
const TWO_M1000 = 9.3326361850321887899e-302;
const OVERFLOW = 7.09782712893383973096e2;
const UNDERFLOW = -7.45133219101941108420e2;
const bits = new Float64Array(1);
const hiWord = new Int32Array(bits.buffer);

/** e^x, bit-identical to native/kilo_gbdt_grow.c kg_exp. */
export function exp(x: number): number {
  if (x !== x) return x;
  if (x > OVERFLOW) return Infinity;
  if (x < UNDERFLOW) return 0;
  if (x === 1) return Math.E;
  const ax = Math.abs(x);
  let hi = 0;
  let lo = 0;
  let k = 0;
  let r: number;
  if (ax > HALF_LN2) {
    k = ax < THREE_HALF_LN2 ? (x < 0 ? -1 : 1) : Math.trunc(INV_LN2 * x + (x < 0 ? -0.5 : 0.5));
    hi = x - k * LN2_HI;
    lo = k * LN2_LO;
    r = hi - lo;
  } else if (ax < 3.725290298461914e-9) {
    return 1 + x;
  } else {
    r = x;
  }
  const t = r * r;
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k === 0) return 1 - ((r * c) / (c - 2) - r);
  bits[0] = 1 - (lo - (r * c) / (2 - c) - hi);
  // 2^k by the exponent field (little-endian: the high word is [1]); below 2^-1021 via 2^-1000.
  if (k >= -1021) {
    hiWord[1] += k << 20;
    return bits[0];
  }
  hiWord[1] += (k + 1000) << 20;
  return bits[0] * TWO_M1000;
}

/**
 * For every row: p = softmax(margin row), then each class's g = p_k - [y = k] and
 * h = max(2 p_k (1 - p_k), 1e-16) into gh (class-major, (g, h) per row), and p_y into py.
 */
export function softmaxGradients(margin: Float64Array, labels: Uint8Array, nRows: number, K: number, gh: Float64Array, py: Float64Array, prow: Float64Array): void {
  for (let r = 0; r < nRows; r++) {
    const o = r * K;
    let max = -Infinity;
    for (let k = 0; k < K; k++) if (margin[o + k] > max) max = margin[o + k];
    let s = 0;
    for (let k = 0; k < K; k++) {
      const e = exp(margin[o + k] - max);
      prow[k] = e;
      s += e;
    }
    const y = labels[r];
    for (let k = 0, j = 2 * r; k < K; k++, j += 2 * nRows) {
      const pk = prow[k] / s;
      gh[j] = pk - (y === k ? 1 : 0);
      gh[j + 1] = Math.max(2 * pk * (1 - pk), 1e-16);
      if (k === y) py[r] = pk;
    }
  }
}

/** Mean of -log(max(p_y, 1e-15)) over the rows, summed in row order. */
export function meanLogLoss(py: Float64Array, nRows: number): number {
  let loss = 0;
  for (let r = 0; r < nRows; r++) loss -= Math.log(Math.max(py[r], 1e-15));
  return loss / nRows;
}
