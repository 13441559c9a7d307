/*
 * The arithmetic of kilo's recurrent kernels, written once over a vector type and compiled twice by
 * kilo_rnn.c: KW = 8 (AVX2 + FMA, 256-bit) and KW = 16 (AVX-512F, 512-bit). kilo_rnn.c picks one
 * at load time from the CPU; both are checked against the tfjs path in test/native/rnn-native.test.ts.
 *
 * Shapes (row-major float32): B batch, T steps, F features, U units, G = 3U (GRU) or 4U (LSTM).
 *   x [B, T, F]; kernel W [F, G]; recurrent Uw [U, G]; bias [G]; GRU recurrent bias rb [U]
 *   (reset-after candidate: c = tanh(x Wh + bh + r * (h Uh + rb))).
 *   hs [T+1, B, U]: every state, time-major (hs[0] = 0), kept by the training forward pass.
 *   S  [T, B, 4U] (GRU: z | r | c | h Uh + rb) or [T, B, 5U] (LSTM: i | f | g | o | tanh(c)).
 *   cs [T+1, B, U]: LSTM cell states.
 * Every function here and in rnn_simd.h / rnn_gemm.h is `static` and named through FN() so the two
 * compilations do not collide; the macros are #undef'd at the end for the second pass.
 */
#include "rnn_simd.h"
#include "rnn_gemm.h"

/* ------------------------------------------------------------------------------------------ */
/* GRU                                                                                          */
/* ------------------------------------------------------------------------------------------ */
/* Forward over blocks of RB batch rows, each taken through all T steps while its state is in L1:
 * per step, px = x_s W + bias and ph = h Uw + [0 | 0 | rb] for the block, then the gates.
 * Training (S != NULL) keeps every state in hs [T+1, B, U] and the gates in S; inference keeps only
 * the block's current state (hs = a [2, RB, U] ping-pong) and writes the last states to out. */
static void FN(gru_forward)(int B, int T, int F, int U, const float *x, const float *W, const float *Uw, const float *bias, const float *rb,
                            float *hs, float *S, float *out, float *scratch) {
  const int G = 3 * U;
  float *px = scratch, *ph = px + (size_t)RB * G, *rbf = ph + (size_t)RB * G;
  memset(rbf, 0, sizeof(float) * 2 * U);
  memcpy(rbf + 2 * U, rb, sizeof(float) * U);
  const int keep = S != NULL;
  for (int i0 = 0; i0 < B; i0 += RB) {
    const int R = B - i0 < RB ? B - i0 : RB;
#define HSLOT(s) (keep ? hs + ((size_t)(s) * B + i0) * U : hs + (size_t)((s) & 1) * RB * U)
    memset(HSLOT(0), 0, sizeof(float) * R * U);
    for (int s = 0; s < T; s++) {
      const float *h = HSLOT(s);
      float *hn = HSLOT(s + 1);
      PROF_START(t);
      FN(gemm)(R, G, F, x + ((size_t)i0 * T + s) * F, (ptrdiff_t)T * F, 1, W, G, px, G, INIT_BIAS, bias);
      PROF_ADD(PH_FWD_X, t);
      FN(gemm)(R, G, U, h, U, 1, Uw, G, ph, G, INIT_BIAS, rbf);
      PROF_ADD(PH_FWD_H, t);
      for (int r = 0; r < R; r++) {
        const float *a = px + (size_t)r * G, *q = ph + (size_t)r * G, *hp = h + (size_t)r * U;
        float *hr = hn + (size_t)r * U;
        float *sv = keep ? S + ((size_t)s * B + i0 + r) * 4 * U : NULL;
        for (int u = 0; u < U; u += KW) {
          const int n = U - u < KW ? U - u : KW;
#define GRU_CELL(n)                                                                     \
  do {                                                                                  \
    const V zz = FN(vsigmoid)(VADD(FN(ld)(a + u, n), FN(ld)(q + u, n)));                \
    const V rr = FN(vsigmoid)(VADD(FN(ld)(a + U + u, n), FN(ld)(q + U + u, n)));        \
    const V hv = FN(ld)(q + 2 * U + u, n);                                              \
    const V cc = FN(vtanh)(VFMA(rr, hv, FN(ld)(a + 2 * U + u, n)));                      \
    FN(st)(hr + u, VFMA(zz, VSUB(FN(ld)(hp + u, n), cc), cc), n);                      \
    if (sv) {                                                                           \
      FN(st)(sv + u, zz, n);                                                            \
      FN(st)(sv + U + u, rr, n);                                                        \
      FN(st)(sv + 2 * U + u, cc, n);                                                    \
      FN(st)(sv + 3 * U + u, hv, n);                                                    \
    }                                                                                   \
  } while (0)
          if (n == KW) GRU_CELL(KW);
          else GRU_CELL(n);
#undef GRU_CELL
        }
      }
      PROF_ADD(PH_FWD_GATES, t);
    }
    if (out) memcpy(out + (size_t)i0 * U, HSLOT(T), sizeof(float) * R * U);
#undef HSLOT
  }
}

/* Backward through time, step by step over the whole batch (the weight gradients reduce over the
 * batch: one GEMM per step with K = B). dy [B, U] is the gradient of the last state. Per step and
 * block of rows: the gate gradients dA = [daz | dar | dac] and dH = [daz | dar | dac * r] (the
 * recurrent side of the candidate is scaled by r), then dh_prev = dh * z + dH U^T for those rows;
 * then gU += h_s^T dH and gW += x_s^T dA. Gradients are overwritten. */
static void FN(gru_backward)(int B, int T, int F, int U, const float *x, const float *dy, const float *Uw, const float *hs, const float *S,
                             float *gW, float *gU, float *gb, float *grb, float *scratch) {
  const int G = 3 * U;
  float *uT = scratch, *dA = uT + (size_t)G * U, *dH = dA + (size_t)B * G, *dh = dH + (size_t)B * G;
  for (int u = 0; u < U; u++)
    for (int g = 0; g < G; g++) uT[(size_t)g * U + u] = Uw[(size_t)u * G + g];
  memset(gb, 0, sizeof(float) * G);
  memset(grb, 0, sizeof(float) * U);
  memcpy(dh, dy, sizeof(float) * B * U);
  for (int s = T - 1; s >= 0; s--) {
    const float *hsS = hs + (size_t)s * B * U;
    PROF_START(t);
    for (int i0 = 0; i0 < B; i0 += RB) {
      const int R = B - i0 < RB ? B - i0 : RB;
      for (int u = 0; u < U; u += KW) {
        const int n = U - u < KW ? U - u : KW;
#define GRU_BACK(n)                                                                   \
  do {                                                                                \
    V sz = VZ(), sr = VZ(), sc = VZ(), sh = VZ();                                     \
    for (int r = 0; r < R; r++) {                                                     \
      const size_t i = (size_t)i0 + r;                                                \
      const float *sv = S + ((size_t)s * B + i) * 4 * U;                              \
      float *d = dh + i * U + u, *a = dA + i * G + u, *e = dH + i * G + u;            \
      const V dv = FN(ld)(d, n), z = FN(ld)(sv + u, n), rg = FN(ld)(sv + U + u, n);   \
      const V c = FN(ld)(sv + 2 * U + u, n), hh = FN(ld)(sv + 3 * U + u, n);          \
      const V one = V1(1.0f);                                                         \
      const V dc = VFNMA(dv, z, dv);                        /* d (1 - z) */           \
      const V dz = VMUL(dv, VSUB(FN(ld)(hsS + i * U + u, n), c));                    \
      const V dac = VMUL(dc, VFNMA(c, c, one));                                       \
      const V daz = VMUL(VMUL(dz, z), VSUB(one, z));                                  \
      const V dar = VMUL(VMUL(VMUL(dac, hh), rg), VSUB(one, rg));                     \
      const V dhh = VMUL(dac, rg);                                                    \
      FN(st)(a, daz, n); FN(st)(a + U, dar, n); FN(st)(a + 2 * U, dac, n);            \
      FN(st)(e, daz, n); FN(st)(e + U, dar, n); FN(st)(e + 2 * U, dhh, n);            \
      FN(st)(d, VMUL(dv, z), n);                                                      \
      sz = VADD(sz, daz); sr = VADD(sr, dar); sc = VADD(sc, dac); sh = VADD(sh, dhh); \
    }                                                                                 \
    FN(st)(gb + u, VADD(FN(ld)(gb + u, n), sz), n);                                   \
    FN(st)(gb + U + u, VADD(FN(ld)(gb + U + u, n), sr), n);                           \
    FN(st)(gb + 2 * U + u, VADD(FN(ld)(gb + 2 * U + u, n), sc), n);                   \
    FN(st)(grb + u, VADD(FN(ld)(grb + u, n), sh), n);                                 \
  } while (0)
        if (n == KW) GRU_BACK(KW);
        else GRU_BACK(n);
#undef GRU_BACK
      }
      PROF_ADD(PH_BWD_GATES, t);
      FN(gemm)(R, U, G, dH + (size_t)i0 * G, G, 1, uT, U, dh + (size_t)i0 * U, U, INIT_ACC, NULL); /* dh_prev += dH U^T */
      PROF_ADD(PH_BWD_DH, t);
    }
    FN(gemm)(U, G, B, hsS, 1, U, dH, G, gU, G, s == T - 1 ? INIT_ZERO : INIT_ACC, NULL);                         /* gU += h_s^T dH */
    PROF_ADD(PH_BWD_GU, t);
    FN(gemm)(F, G, B, x + (size_t)s * F, 1, (ptrdiff_t)T * F, dA, G, gW, G, s == T - 1 ? INIT_ZERO : INIT_ACC, NULL); /* gW += x_s^T dA */
    PROF_ADD(PH_BWD_GW, t);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* LSTM (Keras gate order i, f, g, o; c' = f c + i g; h' = o tanh(c'))                         */
/* ------------------------------------------------------------------------------------------ */
static void FN(lstm_forward)(int B, int T, int F, int U, const float *x, const float *W, const float *Uw, const float *bias,
                             float *hs, float *cs, float *S, float *out, float *scratch) {
  const int G = 4 * U;
  float *px = scratch;
  const int keep = S != NULL;
  for (int i0 = 0; i0 < B; i0 += RB) {
    const int R = B - i0 < RB ? B - i0 : RB;
#define SLOT(base, s) (keep ? (base) + ((size_t)(s) * B + i0) * U : (base) + (size_t)((s) & 1) * RB * U)
    memset(SLOT(hs, 0), 0, sizeof(float) * R * U);
    memset(SLOT(cs, 0), 0, sizeof(float) * R * U);
    for (int s = 0; s < T; s++) {
      const float *h = SLOT(hs, s), *cp = SLOT(cs, s);
      float *hn = SLOT(hs, s + 1), *cn = SLOT(cs, s + 1);
      PROF_START(t);
      FN(gemm)(R, G, F, x + ((size_t)i0 * T + s) * F, (ptrdiff_t)T * F, 1, W, G, px, G, INIT_BIAS, bias);
      PROF_ADD(PH_FWD_X, t);
      FN(gemm)(R, G, U, h, U, 1, Uw, G, px, G, INIT_ACC, NULL);
      PROF_ADD(PH_FWD_H, t);
      for (int r = 0; r < R; r++) {
        const float *a = px + (size_t)r * G, *cr = cp + (size_t)r * U;
        float *hr = hn + (size_t)r * U, *cw = cn + (size_t)r * U;
        float *sv = keep ? S + ((size_t)s * B + i0 + r) * 5 * U : NULL;
        for (int u = 0; u < U; u += KW) {
          const int n = U - u < KW ? U - u : KW;
#define LSTM_CELL(n)                                                          \
  do {                                                                        \
    const V ig = FN(vsigmoid)(FN(ld)(a + u, n));                              \
    const V fg = FN(vsigmoid)(FN(ld)(a + U + u, n));                          \
    const V gg = FN(vtanh)(FN(ld)(a + 2 * U + u, n));                         \
    const V og = FN(vsigmoid)(FN(ld)(a + 3 * U + u, n));                      \
    const V cc = VFMA(fg, FN(ld)(cr + u, n), VMUL(ig, gg));                   \
    const V th = FN(vtanh)(cc);                                               \
    FN(st)(cw + u, cc, n);                                                    \
    FN(st)(hr + u, VMUL(og, th), n);                                          \
    if (sv) {                                                                 \
      FN(st)(sv + u, ig, n);                                                  \
      FN(st)(sv + U + u, fg, n);                                              \
      FN(st)(sv + 2 * U + u, gg, n);                                          \
      FN(st)(sv + 3 * U + u, og, n);                                          \
      FN(st)(sv + 4 * U + u, th, n);                                          \
    }                                                                         \
  } while (0)
          if (n == KW) LSTM_CELL(KW);
          else LSTM_CELL(n);
#undef LSTM_CELL
        }
      }
      PROF_ADD(PH_FWD_GATES, t);
    }
    if (out) memcpy(out + (size_t)i0 * U, SLOT(hs, T), sizeof(float) * R * U);
#undef SLOT
  }
}

static void FN(lstm_backward)(int B, int T, int F, int U, const float *x, const float *dy, const float *Uw, const float *hs, const float *cs,
                              const float *S, float *gW, float *gU, float *gb, float *scratch) {
  const int G = 4 * U;
  float *uT = scratch, *dA = uT + (size_t)G * U, *dh = dA + (size_t)B * G, *dcs = dh + (size_t)B * U;
  for (int u = 0; u < U; u++)
    for (int g = 0; g < G; g++) uT[(size_t)g * U + u] = Uw[(size_t)u * G + g];
  memset(gb, 0, sizeof(float) * G);
  memcpy(dh, dy, sizeof(float) * B * U);
  memset(dcs, 0, sizeof(float) * B * U);
  for (int s = T - 1; s >= 0; s--) {
    const float *hsS = hs + (size_t)s * B * U, *csS = cs + (size_t)s * B * U;
    PROF_START(t);
    for (int i0 = 0; i0 < B; i0 += RB) {
      const int R = B - i0 < RB ? B - i0 : RB;
      for (int u = 0; u < U; u += KW) {
        const int n = U - u < KW ? U - u : KW;
#define LSTM_BACK(n)                                                                           \
  do {                                                                                         \
    V si = VZ(), sf = VZ(), sg = VZ(), so = VZ();                                              \
    for (int r = 0; r < R; r++) {                                                              \
      const size_t i = (size_t)i0 + r;                                                         \
      const float *sv = S + ((size_t)s * B + i) * 5 * U;                                       \
      float *a = dA + i * G + u, *dcp = dcs + i * U + u;                                       \
      const V one = V1(1.0f);                                                                  \
      const V ig = FN(ld)(sv + u, n), fg = FN(ld)(sv + U + u, n), gg = FN(ld)(sv + 2 * U + u, n); \
      const V og = FN(ld)(sv + 3 * U + u, n), th = FN(ld)(sv + 4 * U + u, n);                  \
      const V d = FN(ld)(dh + i * U + u, n);                                                   \
      const V dc = VFMA(VMUL(d, og), VFNMA(th, th, one), FN(ld)(dcp, n));                      \
      const V di = VMUL(VMUL(dc, gg), VMUL(ig, VSUB(one, ig)));                                \
      const V df = VMUL(VMUL(dc, FN(ld)(csS + i * U + u, n)), VMUL(fg, VSUB(one, fg)));        \
      const V dg = VMUL(VMUL(dc, ig), VFNMA(gg, gg, one));                                     \
      const V dO = VMUL(VMUL(d, th), VMUL(og, VSUB(one, og)));                                 \
      FN(st)(a, di, n); FN(st)(a + U, df, n); FN(st)(a + 2 * U, dg, n); FN(st)(a + 3 * U, dO, n); \
      FN(st)(dcp, VMUL(dc, fg), n);                                                            \
      si = VADD(si, di); sf = VADD(sf, df); sg = VADD(sg, dg); so = VADD(so, dO);              \
    }                                                                                          \
    FN(st)(gb + u, VADD(FN(ld)(gb + u, n), si), n);                                            \
    FN(st)(gb + U + u, VADD(FN(ld)(gb + U + u, n), sf), n);                                    \
    FN(st)(gb + 2 * U + u, VADD(FN(ld)(gb + 2 * U + u, n), sg), n);                            \
    FN(st)(gb + 3 * U + u, VADD(FN(ld)(gb + 3 * U + u, n), so), n);                            \
  } while (0)
        if (n == KW) LSTM_BACK(KW);
        else LSTM_BACK(n);
#undef LSTM_BACK
      }
      PROF_ADD(PH_BWD_GATES, t);
      FN(gemm)(R, U, G, dA + (size_t)i0 * G, G, 1, uT, U, dh + (size_t)i0 * U, U, INIT_ZERO, NULL); /* dh_prev = dA U^T */
      PROF_ADD(PH_BWD_DH, t);
    }
    FN(gemm)(U, G, B, hsS, 1, U, dA, G, gU, G, s == T - 1 ? INIT_ZERO : INIT_ACC, NULL);
    PROF_ADD(PH_BWD_GU, t);
    FN(gemm)(F, G, B, x + (size_t)s * F, 1, (ptrdiff_t)T * F, dA, G, gW, G, s == T - 1 ? INIT_ZERO : INIT_ACC, NULL);
    PROF_ADD(PH_BWD_GW, t);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Dense(3) softmax head, class-weighted cross-entropy, Adam                                    */
/* ------------------------------------------------------------------------------------------ */
/* Loss as trainRnn's tfjs step: sum_i w_i * -log(clip(p_i[y_i], 1e-7, 1 - 1e-7)) / sum_i w_i. Writes
 * the gradients of that mean for the head's kernel [U, C] and bias [C] and for the last state
 * (dh [B, U]); returns the weighted sum (the batch's share of the epoch loss). As tfjs's
 * clipByValue, a clipped probability passes no gradient. */
static double FN(head)(int B, int U, int C, const float *h, const float *Wd, const float *bd, const int32_t *y, const float *w, float *dh,
                       float *gWd, float *gbd) {
  float wsum = 0.0f;
  for (int i = 0; i < B; i++) wsum += w[i];
  memset(gWd, 0, sizeof(float) * U * C);
  memset(gbd, 0, sizeof(float) * C);
  double loss = 0.0;
  float logit[16], dl[16];
  for (int i = 0; i < B; i++) {
    const float *hi = h + (size_t)i * U;
    float mx = -INFINITY;
    for (int k = 0; k < C; k++) {
      float s = bd[k];
      for (int u = 0; u < U; u++) s += hi[u] * Wd[(size_t)u * C + k];
      logit[k] = s;
      if (s > mx) mx = s;
    }
    float z = 0.0f;
    for (int k = 0; k < C; k++) z += (logit[k] = expf(logit[k] - mx));
    const float py = logit[y[i]] / z;
    const float pc = py < 1e-7f ? 1e-7f : py > 1.0f - 1e-7f ? 1.0f - 1e-7f : py;
    loss -= (double)w[i] * log((double)pc);
    const float coef = (py >= 1e-7f && py <= 1.0f - 1e-7f) ? w[i] / wsum : 0.0f;
    for (int k = 0; k < C; k++) {
      dl[k] = coef * (logit[k] / z - (k == y[i] ? 1.0f : 0.0f));
      gbd[k] += dl[k];
    }
    float *di = dh + (size_t)i * U;
    for (int u = 0; u < U; u++) {
      float s = 0.0f;
      for (int k = 0; k < C; k++) {
        gWd[(size_t)u * C + k] += hi[u] * dl[k];
        s += dl[k] * Wd[(size_t)u * C + k];
      }
      di[u] = s;
    }
  }
  return loss;
}

/* tfjs's AdamOptimizer.applyGradients, same float32 operations in the same order:
 * m = m b1 + g (1 - b1); v = v b2 + g^2 (1 - b2); p += (m / (1 - acc1)) / (sqrt(v / (1 - acc2)) + eps) * -lr;
 * then acc1 *= b1, acc2 *= b2. opt = [lr, b1, b2, eps, 1 - b1, 1 - b2, acc1, acc2] (acc updated here). */
static void FN(adam)(size_t n, float *p, const float *g, float *m, float *v, float *opt) {
  const V b1 = V1(opt[1]), b2 = V1(opt[2]), eps = V1(opt[3]), ob1 = V1(opt[4]), ob2 = V1(opt[5]), nlr = V1(-opt[0]);
  const V c1 = V1(1.0f - opt[6]), c2 = V1(1.0f - opt[7]);
  for (size_t i = 0; i < n; i += KW) {
    const int k = n - i < KW ? (int)(n - i) : KW;
#define ADAM(k)                                                                                \
  do {                                                                                         \
    const V gv = FN(ld)(g + i, k);                                                             \
    const V mv = VADD(VMUL(FN(ld)(m + i, k), b1), VMUL(gv, ob1));                              \
    const V vv = VADD(VMUL(FN(ld)(v + i, k), b2), VMUL(VMUL(gv, gv), ob2));                    \
    FN(st)(m + i, mv, k);                                                                      \
    FN(st)(v + i, vv, k);                                                                      \
    const V step = VDIV(VDIV(mv, c1), VADD(VSQRT(VDIV(vv, c2)), eps));                         \
    FN(st)(p + i, VADD(VMUL(step, nlr), FN(ld)(p + i, k)), k);                                 \
  } while (0)
    if (k == KW) ADAM(KW);
    else ADAM(k);
#undef ADAM
  }
  opt[6] *= opt[1];
  opt[7] *= opt[2];
}

/* ------------------------------------------------------------------------------------------ */
/* Entry points (argument checking is in kilo_rnn.c)                                           */
/* ------------------------------------------------------------------------------------------ */
static void FN(forward_train)(const Layout *L, const float *x, const float *W, const float *Uw, const float *bias, const float *rb,
                              float *ws, float *out) {
  const int B = L->B, T = L->T, F = L->F, U = L->U;
  if (L->cell) FN(lstm_forward)(B, T, F, U, x, W, Uw, bias, ws + L->hs, ws + L->cs, ws + L->S, out, ws + L->scratch);
  else FN(gru_forward)(B, T, F, U, x, W, Uw, bias, rb, ws + L->hs, ws + L->S, out, ws + L->scratch);
}

static void FN(backward)(const Layout *L, const float *x, const float *dy, const float *Uw, float *ws, float *gW, float *gU, float *gb,
                         float *grb) {
  const int B = L->B, T = L->T, F = L->F, U = L->U;
  float *scratch = ws + L->scratch;
  if (L->cell) FN(lstm_backward)(B, T, F, U, x, dy, Uw, ws + L->hs, ws + L->cs, ws + L->S, gW, gU, gb, scratch);
  else FN(gru_backward)(B, T, F, U, x, dy, Uw, ws + L->hs, ws + L->S, gW, gU, gb, grb, scratch);
}

/* Inference: no saved activations; scratch holds [RB, G] projections and [2, RB, U] states. */
static void FN(infer)(const Layout *L, const float *x, const float *W, const float *Uw, const float *bias, const float *rb, float *out,
                      float *scratch) {
  const int B = L->B, T = L->T, F = L->F, U = L->U;
  float *hbuf = scratch + L->infer_states;
  if (L->cell) FN(lstm_forward)(B, T, F, U, x, W, Uw, bias, hbuf, hbuf + 2 * RB * U, NULL, out, scratch);
  else FN(gru_forward)(B, T, F, U, x, W, Uw, bias, rb, hbuf, NULL, out, scratch);
}

/* One training step of [recurrent layer -> Dense(C, softmax)] on a batch: forward, loss, backward,
 * Adam. params / grads / m / v share the layout of model.getWeights() (see Layout). */
static double FN(train_step)(const Layout *L, const float *x, const int32_t *y, const float *w, float *params, float *grads, float *m,
                             float *v, float *opt, float *ws) {
  const int B = L->B, U = L->U;
  const float *rb = L->cell ? NULL : params + L->p_rbias;
  FN(forward_train)(L, x, params + L->p_kernel, params + L->p_recurrent, params + L->p_bias, rb, ws, NULL);
  PROF_START(t);
  float *dy = ws + L->dy;
  const double loss = FN(head)(B, U, L->C, ws + L->hs + (size_t)L->T * B * U, params + L->p_dense, params + L->p_dense_bias, y, w, dy,
                               grads + L->p_dense, grads + L->p_dense_bias);
  PROF_ADD(PH_HEAD, t);
  FN(backward)(L, x, dy, params + L->p_recurrent, ws, grads + L->p_kernel, grads + L->p_recurrent, grads + L->p_bias,
               L->cell ? NULL : grads + L->p_rbias);
  t = __rdtsc();
  FN(adam)(L->p_total, params, grads, m, v, opt);
  PROF_ADD(PH_ADAM, t);
  return loss;
}

/* Inference of the whole classifier: probabilities [B, C]. */
static void FN(predict)(const Layout *L, const float *x, const float *params, float *probs, float *scratch) {
  const int B = L->B, U = L->U, C = L->C;
  float *h = scratch + L->infer_total;
  FN(infer)(L, x, params + L->p_kernel, params + L->p_recurrent, params + L->p_bias, L->cell ? NULL : params + L->p_rbias, h, scratch);
  const float *Wd = params + L->p_dense, *bd = params + L->p_dense_bias;
  for (int i = 0; i < B; i++) {
    float lg[16], mx = -INFINITY, z = 0.0f;
    for (int k = 0; k < C; k++) {
      float s = bd[k];
      for (int u = 0; u < U; u++) s += h[(size_t)i * U + u] * Wd[(size_t)u * C + k];
      lg[k] = s;
      if (s > mx) mx = s;
    }
    for (int k = 0; k < C; k++) z += (lg[k] = expf(lg[k] - mx));
    for (int k = 0; k < C; k++) probs[(size_t)i * C + k] = lg[k] / z;
  }
}

static const Kernels FN(kernel_table) = {
    .name = KNAME,
    .forward_train = FN(forward_train),
    .backward = FN(backward),
    .infer = FN(infer),
    .train_step = FN(train_step),
    .predict = FN(predict),
};

#undef MR
#undef V
#undef VL
#undef VS
#undef V1
#undef VB
#undef VZ
#undef VADD
#undef VSUB
#undef VMUL
#undef VDIV
#undef VFMA
#undef VFNMA
#undef VMIN
#undef VMAX
#undef VSQRT
#undef VFLOOR
#undef VRCP
#undef VCVTI
#undef VADDI
#undef VSLLI
#undef VI1
#undef VCASTF
#undef VMASK
#undef VLN
#undef VSN
#undef FN
