/*
 * kilo's native recurrent kernels: whole-sequence GRU/LSTM forward and backward (backprop through
 * time) for the training case "first layer, data input, last state out" (see
 * src/models/rnn/gru-bptt.ts for the same math in tfjs ops, and src/native/rnn.ts for the caller).
 *
 * Why: on the wasm backend each tfjs op costs tens of microseconds and XNNPACK's 128-bit SIMD tops
 * out near 25 GFLOP/s here; this file does the same arithmetic in a handful of AVX2/FMA loops with
 * no per-op dispatch. tfjs still owns the model: weights are tf.Variables, the optimizer, loss,
 * dense head, (de)serialisation and inference are unchanged. The kernels only replace the
 * recurrent layer's training forward/backward, and are checked against the tfjs path in
 * test/native/rnn-native.test.ts.
 *
 * Layouts (row-major, float32), U = units, F = features, B = batch, T = steps:
 *   x        [B, T, F]           the batch as tfjs holds it
 *   GRU: kernel [F, 3U] (z | r | h), recurrent [U, 3U], bias [3U], recurrent_bias [U] (candidate only,
 *        "reset after": c = tanh(x Wh + bh + r * (h Uh + rb)))
 *   LSTM: kernel [F, 4U] (i | f | c | o), recurrent [U, 4U], bias [4U]
 *   ws       one Float32Array workspace owned by the JS caller (size from *_workspace_floats), which
 *            keeps the forward pass's saved activations for the backward pass.
 *
 * Built by native/build.mjs with -O3 -mavx2 -mfma. Module init checks the CPU and exports
 * `available: false` (and no kernels) where AVX2/FMA are missing, so the caller falls back.
 */
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Kernels (AVX2 + FMA). Only called after the CPU check in Init.                              */
/* ------------------------------------------------------------------------------------------ */
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>

/* C[r, 0:16] (+)= A[r, 0:K] . B[0:K, 0:16] for r < R; R is a compile-time constant at each call. */
static inline __attribute__((always_inline)) void mk16(const int R, int K, const float *A, int lda, const float *B, int ldb,
                                                       float *C, int ldc, int acc) {
  __m256 c0[6], c1[6];
  for (int r = 0; r < R; r++) {
    c0[r] = acc ? _mm256_loadu_ps(C + (size_t)r * ldc) : _mm256_setzero_ps();
    c1[r] = acc ? _mm256_loadu_ps(C + (size_t)r * ldc + 8) : _mm256_setzero_ps();
  }
  for (int k = 0; k < K; k++) {
    const __m256 b0 = _mm256_loadu_ps(B + (size_t)k * ldb);
    const __m256 b1 = _mm256_loadu_ps(B + (size_t)k * ldb + 8);
    for (int r = 0; r < R; r++) {
      const __m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + k);
      c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
    }
  }
  for (int r = 0; r < R; r++) {
    _mm256_storeu_ps(C + (size_t)r * ldc, c0[r]);
    _mm256_storeu_ps(C + (size_t)r * ldc + 8, c1[r]);
  }
}

/* Same for one 8-wide column block. */
static inline __attribute__((always_inline)) void mk8(const int R, int K, const float *A, int lda, const float *B, int ldb,
                                                      float *C, int ldc, int acc) {
  __m256 c0[6];
  for (int r = 0; r < R; r++) c0[r] = acc ? _mm256_loadu_ps(C + (size_t)r * ldc) : _mm256_setzero_ps();
  for (int k = 0; k < K; k++) {
    const __m256 b0 = _mm256_loadu_ps(B + (size_t)k * ldb);
    for (int r = 0; r < R; r++) c0[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(A + (size_t)r * lda + k), b0, c0[r]);
  }
  for (int r = 0; r < R; r++) _mm256_storeu_ps(C + (size_t)r * ldc, c0[r]);
}

#define MK_ROWS(fn, R, ...)          \
  switch (R) {                       \
    case 6: fn(6, __VA_ARGS__); break; \
    case 5: fn(5, __VA_ARGS__); break; \
    case 4: fn(4, __VA_ARGS__); break; \
    case 3: fn(3, __VA_ARGS__); break; \
    case 2: fn(2, __VA_ARGS__); break; \
    default: fn(1, __VA_ARGS__); break; \
  }

/* C[M,N] = (acc ? C : 0) + A[M,K] . B[K,N], all row-major with leading dimensions. */
static void gemm(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc, int acc) {
  for (int i = 0; i < M; i += 6) {
    const int R = M - i < 6 ? M - i : 6;
    const float *a = A + (size_t)i * lda;
    float *c = C + (size_t)i * ldc;
    int j = 0;
    for (; j + 16 <= N; j += 16) MK_ROWS(mk16, R, K, a, lda, B + j, ldb, c + j, ldc, acc);
    for (; j + 8 <= N; j += 8) MK_ROWS(mk8, R, K, a, lda, B + j, ldb, c + j, ldc, acc);
    for (; j < N; j++) {
      for (int r = 0; r < R; r++) {
        float s = acc ? c[(size_t)r * ldc + j] : 0.0f;
        for (int k = 0; k < K; k++) s += a[(size_t)r * lda + k] * B[(size_t)k * ldb + j];
        c[(size_t)r * ldc + j] = s;
      }
    }
  }
}

/* out[c, r] = in[r, c] for an [R, C] block with leading dimensions. */
static void transpose(int R, int C, const float *in, int ldi, float *out, int ldo) {
  for (int r0 = 0; r0 < R; r0 += 16)
    for (int c0 = 0; c0 < C; c0 += 16)
      for (int r = r0; r < R && r < r0 + 16; r++)
        for (int c = c0; c < C && c < c0 + 16; c++) out[(size_t)c * ldo + r] = in[(size_t)r * ldi + c];
}

/* exp for 8 lanes: Cephes-style range reduction and degree-5 polynomial, |rel err| ~ 1e-7. */
static inline __m256 exp8(__m256 x) {
  /* Constant first: maxps/minps return the second operand when either is NaN, so NaN propagates. */
  x = _mm256_min_ps(_mm256_set1_ps(88.3f), _mm256_max_ps(_mm256_set1_ps(-87.3f), x));
  __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}
static inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
/* tanh(x) = 2 sigmoid(2x) - 1 */
static inline __m256 tanh8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 s = sigmoid8(_mm256_add_ps(x, x));
  return _mm256_sub_ps(_mm256_add_ps(s, s), one);
}

/* Scalar versions for a units count that is not a multiple of 8 (same formulas, lane 0). */
static inline float sigmoid1(float x) { return _mm256_cvtss_f32(sigmoid8(_mm256_set1_ps(x))); }
static inline float tanh1(float x) { return _mm256_cvtss_f32(tanh8(_mm256_set1_ps(x))); }

/* x [B,T,F] -> time-major xs [T,B,F] and per-step transposes xsT [T][F,B]. */
static void time_major(int B, int T, int F, const float *x, float *xs, float *xsT) {
  for (int i = 0; i < B; i++)
    for (int s = 0; s < T; s++) memcpy(xs + ((size_t)s * B + i) * F, x + ((size_t)i * T + s) * F, sizeof(float) * F);
  for (int s = 0; s < T; s++) transpose(B, F, xs + (size_t)s * B * F, F, xsT + (size_t)s * F * B, B);
}

/* ---------------------------------------- GRU ---------------------------------------------- */
/* Workspace: xs[T*B*F] xsT[T*F*B] xw[T*B*3U] hs[(T+1)*B*U] z,r,hh,c[T*B*U] hu[B*3U]
 *            dA[B*3U] dH[B*3U] dh[B*U] uT[3U*U] hT[U*B] */
static size_t gru_ws(int B, int T, int F, int U) {
  const size_t tb = (size_t)T * B;
  return 2 * tb * F + tb * 3 * U + (tb + B) * U + 4 * tb * U + 3 * (size_t)B * 3 * U + (size_t)B * U + (size_t)3 * U * U + (size_t)U * B;
}

static void gru_forward(int B, int T, int F, int U, const float *x, const float *W, const float *Uw, const float *bias,
                        const float *rb, float *ws, float *out) {
  const size_t tb = (size_t)T * B, G = 3 * (size_t)U;
  float *xs = ws, *xsT = xs + tb * F, *xw = xsT + tb * F, *hs = xw + tb * G, *Z = hs + (tb + B) * U, *Rr = Z + tb * U,
        *HH = Rr + tb * U, *Cc = HH + tb * U, *hu = Cc + tb * U;
  time_major(B, T, F, x, xs, xsT);
  gemm((int)tb, (int)G, F, xs, F, W, (int)G, xw, (int)G, 0);
  memset(hs, 0, sizeof(float) * B * U);
  for (int s = 0; s < T; s++) {
    const float *h = hs + (size_t)s * B * U;
    float *hn = hs + (size_t)(s + 1) * B * U;
    gemm(B, (int)G, U, h, U, Uw, (int)G, hu, (int)G, 0);
    float *z = Z + (size_t)s * B * U, *r = Rr + (size_t)s * B * U, *hh = HH + (size_t)s * B * U, *c = Cc + (size_t)s * B * U;
    for (int i = 0; i < B; i++) {
      const float *xr = xw + ((size_t)s * B + i) * G, *ur = hu + (size_t)i * G;
      const size_t o = (size_t)i * U;
      int u = 0;
      for (; u + 8 <= U; u += 8) {
        const __m256 zz = sigmoid8(_mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(xr + u), _mm256_loadu_ps(bias + u)), _mm256_loadu_ps(ur + u)));
        const __m256 rr = sigmoid8(_mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(xr + U + u), _mm256_loadu_ps(bias + U + u)), _mm256_loadu_ps(ur + U + u)));
        const __m256 hv = _mm256_add_ps(_mm256_loadu_ps(ur + 2 * U + u), _mm256_loadu_ps(rb + u));
        const __m256 cc = tanh8(_mm256_fmadd_ps(rr, hv, _mm256_add_ps(_mm256_loadu_ps(xr + 2 * U + u), _mm256_loadu_ps(bias + 2 * U + u))));
        const __m256 hp = _mm256_loadu_ps(h + o + u);
        _mm256_storeu_ps(z + o + u, zz);
        _mm256_storeu_ps(r + o + u, rr);
        _mm256_storeu_ps(hh + o + u, hv);
        _mm256_storeu_ps(c + o + u, cc);
        _mm256_storeu_ps(hn + o + u, _mm256_fmadd_ps(zz, _mm256_sub_ps(hp, cc), cc));
      }
      for (; u < U; u++) {
        const float zz = sigmoid1(xr[u] + bias[u] + ur[u]);
        const float rr = sigmoid1(xr[U + u] + bias[U + u] + ur[U + u]);
        const float hv = ur[2 * U + u] + rb[u];
        const float cc = tanh1(xr[2 * U + u] + bias[2 * U + u] + rr * hv);
        z[o + u] = zz; r[o + u] = rr; hh[o + u] = hv; c[o + u] = cc;
        hn[o + u] = cc + zz * (h[o + u] - cc);
      }
    }
  }
  memcpy(out, hs + tb * U, sizeof(float) * B * U);
}

/* gW [F,3U], gU [U,3U], gb [3U], grb [U] are overwritten. */
static void gru_backward(int B, int T, int F, int U, const float *dy, const float *Uw, float *ws, float *gW, float *gU,
                         float *gb, float *grb) {
  const size_t tb = (size_t)T * B, G = 3 * (size_t)U;
  float *xs = ws, *xsT = xs + tb * F, *xw = xsT + tb * F, *hs = xw + tb * G, *Z = hs + (tb + B) * U, *Rr = Z + tb * U,
        *HH = Rr + tb * U, *Cc = HH + tb * U, *hu = Cc + tb * U, *dA = hu + B * G, *dH = dA + B * G, *dh = dH + B * G,
        *uT = dh + (size_t)B * U, *hT = uT + G * U;
  (void)xs;
  transpose(U, (int)G, Uw, (int)G, uT, U); /* uT [3U, U] */
  memset(gW, 0, sizeof(float) * F * G);
  memset(gU, 0, sizeof(float) * U * G);
  memset(gb, 0, sizeof(float) * G);
  memset(grb, 0, sizeof(float) * U);
  memcpy(dh, dy, sizeof(float) * B * U);
  for (int s = T - 1; s >= 0; s--) {
    const size_t so = (size_t)s * B * U;
    const float *hp = hs + so, *z = Z + so, *r = Rr + so, *hh = HH + so, *c = Cc + so;
    for (int i = 0; i < B; i++) {
      const size_t o = (size_t)i * U;
      float *a = dA + (size_t)i * G, *hg = dH + (size_t)i * G;
      for (int u = 0; u < U; u++) {
        const float d = dh[o + u], zz = z[o + u], rr = r[o + u], cc = c[o + u];
        const float dc = d * (1.0f - zz), dz = d * (hp[o + u] - cc);
        const float dac = dc * (1.0f - cc * cc);
        const float daz = dz * zz * (1.0f - zz);
        const float dar = dac * hh[o + u] * rr * (1.0f - rr);
        const float dhh = dac * rr;
        a[u] = daz; a[U + u] = dar; a[2 * U + u] = dac;
        hg[u] = daz; hg[U + u] = dar; hg[2 * U + u] = dhh;
        dh[o + u] = d * zz;
      }
    }
    for (int i = 0; i < B; i++) {
      const float *a = dA + (size_t)i * G;
      for (size_t g = 0; g < G; g++) gb[g] += a[g];
      const float *hg = dH + (size_t)i * G;
      for (int u = 0; u < U; u++) grb[u] += hg[2 * U + u];
    }
    gemm(B, U, (int)G, dH, (int)G, uT, U, dh, U, 1);                        /* dh_prev += dH . U^T */
    transpose(B, U, hp, U, hT, B);                                           /* hT [U, B] */
    gemm(U, (int)G, B, hT, B, dH, (int)G, gU, (int)G, 1);                   /* gU += h^T dH */
    gemm(F, (int)G, B, xsT + (size_t)s * F * B, B, dA, (int)G, gW, (int)G, 1); /* gW += x^T dA */
  }
}

/* ---------------------------------------- LSTM --------------------------------------------- */
/* Keras/tfjs LSTM: gates i, f, c~, o = sigma, sigma, tanh, sigma of x W + h U + b;
 * c' = f c + i c~; h' = o tanh(c').
 * Workspace: xs xsT [T*B*F each] xw[T*B*4U] hs[(T+1)*B*U] cs[(T+1)*B*U] gates[T*B*4U] tc[T*B*U]
 *            hu[B*4U] dA[B*4U] dh[B*U] dcs[B*U] uT[4U*U] hT[U*B] */
static size_t lstm_ws(int B, int T, int F, int U) {
  const size_t tb = (size_t)T * B;
  return 2 * tb * F + tb * 4 * U + 2 * (tb + B) * U + tb * 4 * U + tb * U + 2 * (size_t)B * 4 * U + 2 * (size_t)B * U +
         (size_t)4 * U * U + (size_t)U * B;
}

static void lstm_forward(int B, int T, int F, int U, const float *x, const float *W, const float *Uw, const float *bias,
                         float *ws, float *out) {
  const size_t tb = (size_t)T * B, G = 4 * (size_t)U;
  float *xs = ws, *xsT = xs + tb * F, *xw = xsT + tb * F, *hs = xw + tb * G, *cs = hs + (tb + B) * U, *gt = cs + (tb + B) * U,
        *tc = gt + tb * G, *hu = tc + tb * U;
  time_major(B, T, F, x, xs, xsT);
  gemm((int)tb, (int)G, F, xs, F, W, (int)G, xw, (int)G, 0);
  memset(hs, 0, sizeof(float) * B * U);
  memset(cs, 0, sizeof(float) * B * U);
  for (int s = 0; s < T; s++) {
    const size_t so = (size_t)s * B * U;
    const float *h = hs + so, *cp = cs + so;
    float *hn = hs + so + (size_t)B * U, *cn = cs + so + (size_t)B * U;
    gemm(B, (int)G, U, h, U, Uw, (int)G, hu, (int)G, 0);
    for (int i = 0; i < B; i++) {
      const float *xr = xw + ((size_t)s * B + i) * G, *ur = hu + (size_t)i * G;
      float *g = gt + ((size_t)s * B + i) * G, *t = tc + so + (size_t)i * U;
      const size_t o = (size_t)i * U;
      int u = 0;
      for (; u + 8 <= U; u += 8) {
#define PRE(k) _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(xr + (k) * U + u), _mm256_loadu_ps(bias + (k) * U + u)), _mm256_loadu_ps(ur + (k) * U + u))
        const __m256 ig = sigmoid8(PRE(0)), fg = sigmoid8(PRE(1)), cg = tanh8(PRE(2)), og = sigmoid8(PRE(3));
#undef PRE
        const __m256 cc = _mm256_fmadd_ps(fg, _mm256_loadu_ps(cp + o + u), _mm256_mul_ps(ig, cg));
        const __m256 th = tanh8(cc);
        _mm256_storeu_ps(g + u, ig);
        _mm256_storeu_ps(g + U + u, fg);
        _mm256_storeu_ps(g + 2 * U + u, cg);
        _mm256_storeu_ps(g + 3 * U + u, og);
        _mm256_storeu_ps(cn + o + u, cc);
        _mm256_storeu_ps(t + u, th);
        _mm256_storeu_ps(hn + o + u, _mm256_mul_ps(og, th));
      }
      for (; u < U; u++) {
        const float ig = sigmoid1(xr[u] + bias[u] + ur[u]);
        const float fg = sigmoid1(xr[U + u] + bias[U + u] + ur[U + u]);
        const float cg = tanh1(xr[2 * U + u] + bias[2 * U + u] + ur[2 * U + u]);
        const float og = sigmoid1(xr[3 * U + u] + bias[3 * U + u] + ur[3 * U + u]);
        const float cc = fg * cp[o + u] + ig * cg, th = tanh1(cc);
        g[u] = ig; g[U + u] = fg; g[2 * U + u] = cg; g[3 * U + u] = og;
        cn[o + u] = cc; t[u] = th; hn[o + u] = og * th;
      }
    }
  }
  memcpy(out, hs + tb * U, sizeof(float) * B * U);
}

static void lstm_backward(int B, int T, int F, int U, const float *dy, const float *Uw, float *ws, float *gW, float *gU,
                          float *gb) {
  const size_t tb = (size_t)T * B, G = 4 * (size_t)U;
  float *xs = ws, *xsT = xs + tb * F, *xw = xsT + tb * F, *hs = xw + tb * G, *cs = hs + (tb + B) * U, *gt = cs + (tb + B) * U,
        *tc = gt + tb * G, *hu = tc + tb * U, *dA = hu + B * G, *dh = dA + B * G, *dcs = dh + (size_t)B * U,
        *uT = dcs + (size_t)B * U, *hT = uT + G * U;
  (void)xs; (void)xw;
  transpose(U, (int)G, Uw, (int)G, uT, U);
  memset(gW, 0, sizeof(float) * F * G);
  memset(gU, 0, sizeof(float) * U * G);
  memset(gb, 0, sizeof(float) * G);
  memcpy(dh, dy, sizeof(float) * B * U);
  memset(dcs, 0, sizeof(float) * B * U);
  for (int s = T - 1; s >= 0; s--) {
    const size_t so = (size_t)s * B * U;
    const float *hp = hs + so, *cp = cs + so;
    for (int i = 0; i < B; i++) {
      const size_t o = (size_t)i * U;
      const float *g = gt + ((size_t)s * B + i) * G, *t = tc + so + o;
      float *a = dA + (size_t)i * G;
      for (int u = 0; u < U; u++) {
        const float ig = g[u], fg = g[U + u], cg = g[2 * U + u], og = g[3 * U + u], th = t[u];
        const float d = dh[o + u];
        const float dc = dcs[o + u] + d * og * (1.0f - th * th);
        a[u] = dc * cg * ig * (1.0f - ig);
        a[U + u] = dc * cp[o + u] * fg * (1.0f - fg);
        a[2 * U + u] = dc * ig * (1.0f - cg * cg);
        a[3 * U + u] = d * th * og * (1.0f - og);
        dcs[o + u] = dc * fg;
      }
      for (size_t k = 0; k < G; k++) gb[k] += a[k];
    }
    gemm(B, U, (int)G, dA, (int)G, uT, U, dh, U, 0);                          /* dh_prev = dA . U^T */
    transpose(B, U, hp, U, hT, B);
    gemm(U, (int)G, B, hT, B, dA, (int)G, gU, (int)G, 1);
    gemm(F, (int)G, B, xsT + (size_t)s * F * B, B, dA, (int)G, gW, (int)G, 1);
  }
}

#pragma GCC pop_options

/* ------------------------------------------------------------------------------------------ */
/* Node-API bindings (baseline x86-64 code).                                                    */
/* ------------------------------------------------------------------------------------------ */
#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, "KILO_NATIVE", "native call failed: " #call); \
      return NULL;                                                   \
    }                                                                \
  } while (0)

static int get_f32(napi_env env, napi_value v, float **data, size_t *len, const char *what) {
  napi_typedarray_type type;
  size_t n;
  void *p;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &n, &p, &ab, &off) != napi_ok || type != napi_float32_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a Float32Array", what);
    napi_throw_type_error(env, "KILO_NATIVE_ARG", msg);
    return 0;
  }
  *data = (float *)p;
  *len = n;
  return 1;
}

static int get_int(napi_env env, napi_value v, int *out, const char *what) {
  int32_t x;
  if (napi_get_value_int32(env, v, &x) != napi_ok || x <= 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a positive integer", what);
    napi_throw_type_error(env, "KILO_NATIVE_ARG", msg);
    return 0;
  }
  *out = x;
  return 1;
}

static int need(napi_env env, size_t have, size_t want, const char *what) {
  if (have < want) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s has %zu floats, needs %zu", what, have, want);
    napi_throw_range_error(env, "KILO_NATIVE_SIZE", msg);
    return 0;
  }
  return 1;
}

/* The leading arguments of every export: cell (0 gru | 1 lstm), B, T, F, U. */
typedef struct {
  int cell, B, T, F, U;
  size_t G;  /* gate columns: 3U (gru) or 4U (lstm) */
  size_t ws; /* workspace floats */
} Dims;

/* Reads `n` arguments of export `what` and its Dims from argv[0..4]; throws and returns 0 when wrong. */
static int get_call(napi_env env, napi_callback_info info, napi_value *argv, size_t n, const char *what, Dims *d) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s expects %zu arguments", what, n);
    napi_throw_type_error(env, "KILO_NATIVE_ARG", msg);
    return 0;
  }
  if (napi_get_value_int32(env, argv[0], &d->cell) != napi_ok || (d->cell != 0 && d->cell != 1)) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "cell must be 0 (gru) or 1 (lstm)");
    return 0;
  }
  if (!get_int(env, argv[1], &d->B, "batch") || !get_int(env, argv[2], &d->T, "steps") || !get_int(env, argv[3], &d->F, "features") ||
      !get_int(env, argv[4], &d->U, "units"))
    return 0;
  d->G = (size_t)(d->cell ? 4 : 3) * d->U;
  d->ws = d->cell ? lstm_ws(d->B, d->T, d->F, d->U) : gru_ws(d->B, d->T, d->F, d->U);
  return 1;
}

/* A Float32Array argument, its name for errors and the floats it must hold. */
typedef struct {
  const char *name;
  size_t want;
  float *p;
} Buf;

/* Reads argv[i] into bufs[i] for i < n, checking type and size; throws and returns 0 when wrong. */
static int get_bufs(napi_env env, napi_value *argv, Buf *bufs, int n) {
  for (int i = 0; i < n; i++) {
    size_t len;
    if (!get_f32(env, argv[i], &bufs[i].p, &len, bufs[i].name) || !need(env, len, bufs[i].want, bufs[i].name)) return 0;
  }
  return 1;
}

/* workspaceFloats(cell, B, T, F, U) -> number */
static napi_value WorkspaceFloats(napi_env env, napi_callback_info info) {
  napi_value argv[5], out;
  Dims d;
  if (!get_call(env, info, argv, 5, "workspaceFloats", &d)) return NULL;
  CHECK(napi_create_double(env, (double)d.ws, &out));
  return out;
}

/* forward(cell, B, T, F, U, x, kernel, recurrent, bias, recurrentBias (gru; empty for lstm), ws, out) */
static napi_value Forward(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  Dims d;
  if (!get_call(env, info, argv, 12, "forward", &d)) return NULL;
  Buf b[7] = {
      {"x", (size_t)d.B * d.T * d.F, NULL},   {"kernel", (size_t)d.F * d.G, NULL},      {"recurrent kernel", (size_t)d.U * d.G, NULL},
      {"bias", d.G, NULL},                    {"recurrent bias", d.cell ? 0 : (size_t)d.U, NULL},
      {"workspace", d.ws, NULL},              {"out", (size_t)d.B * d.U, NULL},
  };
  if (!get_bufs(env, argv + 5, b, 7)) return NULL;
  if (d.cell) lstm_forward(d.B, d.T, d.F, d.U, b[0].p, b[1].p, b[2].p, b[3].p, b[5].p, b[6].p);
  else gru_forward(d.B, d.T, d.F, d.U, b[0].p, b[1].p, b[2].p, b[3].p, b[4].p, b[5].p, b[6].p);
  return NULL;
}

/* backward(cell, B, T, F, U, dy, recurrent, ws, gKernel, gRecurrent, gBias, gRecurrentBias (gru; empty for lstm)) */
static napi_value Backward(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  Dims d;
  if (!get_call(env, info, argv, 12, "backward", &d)) return NULL;
  Buf b[7] = {
      {"dy", (size_t)d.B * d.U, NULL},        {"recurrent kernel", (size_t)d.U * d.G, NULL}, {"workspace", d.ws, NULL},
      {"kernel gradient", (size_t)d.F * d.G, NULL}, {"recurrent gradient", (size_t)d.U * d.G, NULL}, {"bias gradient", d.G, NULL},
      {"recurrent bias gradient", d.cell ? 0 : (size_t)d.U, NULL},
  };
  if (!get_bufs(env, argv + 5, b, 7)) return NULL;
  if (d.cell) lstm_backward(d.B, d.T, d.F, d.U, b[0].p, b[1].p, b[2].p, b[3].p, b[4].p, b[5].p);
  else gru_backward(d.B, d.T, d.F, d.U, b[0].p, b[1].p, b[2].p, b[3].p, b[4].p, b[5].p, b[6].p);
  return NULL;
}

/* Bumped whenever an export's arguments or meaning change: src/native/rnn.ts refuses another value
 * (a stale build after `git pull` without `npm ci`) and falls back to the tfjs path, saying why. */
#ifndef KILO_RNN_ABI
#define KILO_RNN_ABI 1
#endif

static napi_value Init(napi_env env, napi_value exports) {
  __builtin_cpu_init();
  const int ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  napi_value v;
  if (napi_create_int32(env, KILO_RNN_ABI, &v) != napi_ok || napi_set_named_property(env, exports, "abi", v) != napi_ok) return NULL;
  if (napi_get_boolean(env, ok, &v) != napi_ok || napi_set_named_property(env, exports, "available", v) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, ok ? "avx2+fma" : "this CPU lacks AVX2/FMA", NAPI_AUTO_LENGTH, &v) != napi_ok ||
      napi_set_named_property(env, exports, "isa", v) != napi_ok)
    return NULL;
  if (!ok) return exports;
  napi_property_descriptor props[] = {
      {"workspaceFloats", NULL, WorkspaceFloats, NULL, NULL, NULL, napi_default, NULL},
      {"forward", NULL, Forward, NULL, NULL, NULL, napi_default, NULL},
      {"backward", NULL, Backward, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 3, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
