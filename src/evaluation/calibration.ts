/**
 * Temperature scaling of class probabilities: p_T(c) proportional to p(c)^(1/T), with T fitted on
 * validation rows by minimising the log-loss. T > 1 softens an over-confident model, T < 1
 * sharpens an under-confident one; the argmax never changes, but the confidence the broker's
 * entry threshold compares against does.
 */
export function applyTemperature(probs: ArrayLike<number>, n: number, t: number): Float32Array {
  const out = new Float32Array(n * 3);
  const inv = 1 / t;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < 3; c++) {
      const v = Math.pow(Math.max(1e-12, probs[i * 3 + c]), inv);
      out[i * 3 + c] = v;
      s += v;
    }
    for (let c = 0; c < 3; c++) out[i * 3 + c] /= s;
  }
  return out;
}

function nll(probs: ArrayLike<number>, labels: ArrayLike<number>, t: number): number {
  const inv = 1 / t;
  let ll = 0;
  for (let i = 0; i < labels.length; i++) {
    let s = 0;
    for (let c = 0; c < 3; c++) s += Math.pow(Math.max(1e-12, probs[i * 3 + c]), inv);
    ll -= Math.log(Math.max(1e-12, Math.pow(Math.max(1e-12, probs[i * 3 + labels[i]]), inv) / s));
  }
  return ll / Math.max(1, labels.length);
}

/** The temperature in [0.2, 5] minimising validation log-loss (golden-section search on log T). */
export function fitTemperature(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (labels.length === 0) return 1;
  let a = Math.log(0.2);
  let b = Math.log(5);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = nll(probs, labels, Math.exp(c));
  let fd = nll(probs, labels, Math.exp(d));
  for (let k = 0; k < 40; k++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = nll(probs, labels, Math.exp(c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = nll(probs, labels, Math.exp(d));
    }
  }
  return Math.exp((a + b) / 2);
}
