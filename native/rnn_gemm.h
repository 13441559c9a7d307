/*
 * The GEMM of rnn_kernels.h (included from it, once per instruction set; uses rnn_simd.h).
 */
/* ------------------------------------------------------------------------------------------ */
/* GEMM                                                                                         */
/* ------------------------------------------------------------------------------------------ */
/* C[M, N] (=|+=) A[M, K] . B[K, N]. A is read through strides, A(r, k) = A[r * ars + k * aks], so a
 * transposed operand (h^T, x^T in the weight gradients) needs no transpose pass: each MR-row block
 * of A is packed k-major into a small buffer (ap[k * MR + r]) that the micro-kernel broadcasts
 * from. B and C are row-major with leading dimensions. K is cut into KC-long slices so the packed
 * block stays in L1 whatever the batch size (KC, INIT_* in kilo_rnn.c). */

#if KW == 16
/* In-register transpose of 16 rows of 16 floats. */
static inline __attribute__((always_inline)) void FN(transpose)(V *r) {
  V t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int h = 0; h < 2; h++)
    for (int i = 0; i < 4; i++) {
      t[8 * h + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + i + 4], 0x88);
      t[8 * h + i + 4] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + i + 4], 0xDD);
    }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
  }
}
#else
/* In-register transpose of 8 rows of 8 floats. */
static inline __attribute__((always_inline)) void FN(transpose)(V *r) {
  V t[8], u[8];
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; i++) {
    u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}
#endif

/* Packs rows [0, R) x columns [0, kc) of A k-major: ap[k * MR + r] = A(r, k). ap has KW floats of
 * slack past MR * kc: whole vectors are stored at each k's slot and the next k overwrites the
 * spill (stores go in increasing k). */
static inline __attribute__((always_inline)) void FN(pack_a)(const int R, int kc, const float *A, ptrdiff_t ars, ptrdiff_t aks, float *ap) {
  if (ars == 1) {
    /* A^T operand (h_s^T, x_s^T): each k's R values are contiguous. Masked loads never touch
     * memory past them. */
    for (int k = 0; k < kc; k++) VS(ap + (size_t)k * MR, FN(ld)(A + (size_t)k * aks, R));
    return;
  }
  int k0 = 0;
  if (aks == 1) {
    /* Row-major operand (x rows, h rows, dH rows): KW columns of R rows at a time, transposed in
     * registers (rows R..KW-1 are zero and land in the slack). */
    for (; k0 + KW <= kc; k0 += KW) {
      V v[KW];
      for (int r = 0; r < KW; r++) v[r] = r < R ? VL(A + (size_t)r * ars + k0) : VZ();
      FN(transpose)(v);
      for (int j = 0; j < KW; j++) VS(ap + (size_t)(k0 + j) * MR, v[j]);
    }
  }
  for (int r = 0; r < R; r++) {
    const float *a = A + (size_t)r * ars;
    for (int k = k0; k < kc; k++) ap[(size_t)k * MR + r] = a[(size_t)k * aks];
  }
}

/* One R x (NV * KW) tile of C over kc steps of K; R and NV are compile-time constants at each call. */
static inline __attribute__((always_inline)) void FN(mk)(const int R, const int NV, int kc, const float *ap, const float *b, int ldb,
                                                        float *c, int ldc, int init, const float *bias) {
  V c0[MR], c1[MR];
  for (int r = 0; r < R; r++) {
    if (init == INIT_ACC) {
      c0[r] = VL(c + (size_t)r * ldc);
      c1[r] = NV == 2 ? VL(c + (size_t)r * ldc + KW) : VZ();
    } else if (init == INIT_BIAS) {
      c0[r] = VL(bias);
      c1[r] = NV == 2 ? VL(bias + KW) : VZ();
    } else {
      c0[r] = VZ();
      c1[r] = VZ();
    }
  }
  for (int k = 0; k < kc; k++) {
    const V b0 = VL(b + (size_t)k * ldb);
    const V b1 = NV == 2 ? VL(b + (size_t)k * ldb + KW) : b0;
    const float *a = ap + (size_t)k * MR;
    for (int r = 0; r < R; r++) {
      const V av = VB(a + r);
      c0[r] = VFMA(av, b0, c0[r]);
      if (NV == 2) c1[r] = VFMA(av, b1, c1[r]);
    }
  }
  for (int r = 0; r < R; r++) {
    VS(c + (size_t)r * ldc, c0[r]);
    if (NV == 2) VS(c + (size_t)r * ldc + KW, c1[r]);
  }
}

#if KW == 16
#define ROWS(R, NV, ...)                 \
  switch (R) {                           \
    case 12: FN(mk)(12, NV, __VA_ARGS__); break; \
    case 11: FN(mk)(11, NV, __VA_ARGS__); break; \
    case 10: FN(mk)(10, NV, __VA_ARGS__); break; \
    case 9: FN(mk)(9, NV, __VA_ARGS__); break;   \
    case 8: FN(mk)(8, NV, __VA_ARGS__); break;   \
    case 7: FN(mk)(7, NV, __VA_ARGS__); break;   \
    case 6: FN(mk)(6, NV, __VA_ARGS__); break;   \
    case 5: FN(mk)(5, NV, __VA_ARGS__); break;   \
    case 4: FN(mk)(4, NV, __VA_ARGS__); break;   \
    case 3: FN(mk)(3, NV, __VA_ARGS__); break;   \
    case 2: FN(mk)(2, NV, __VA_ARGS__); break;   \
    default: FN(mk)(1, NV, __VA_ARGS__); break;  \
  }
#else
#define ROWS(R, NV, ...)                 \
  switch (R) {                           \
    case 6: FN(mk)(6, NV, __VA_ARGS__); break;  \
    case 5: FN(mk)(5, NV, __VA_ARGS__); break;  \
    case 4: FN(mk)(4, NV, __VA_ARGS__); break;  \
    case 3: FN(mk)(3, NV, __VA_ARGS__); break;  \
    case 2: FN(mk)(2, NV, __VA_ARGS__); break;  \
    default: FN(mk)(1, NV, __VA_ARGS__); break; \
  }
#endif

static void FN(gemm)(int M, int N, int K, const float *A, ptrdiff_t ars, ptrdiff_t aks, const float *Bm, int ldb, float *C, int ldc,
                     int init, const float *bias) {
  float ap[MR * KC + KW] __attribute__((aligned(64)));
  for (int i = 0; i < M; i += MR) {
    const int R = M - i < MR ? M - i : MR;
    float *c = C + (size_t)i * ldc;
    for (int k0 = 0; k0 < K; k0 += KC) {
      const int kc = K - k0 < KC ? K - k0 : KC;
      const int in = k0 ? INIT_ACC : init;
      FN(pack_a)(R, kc, A + (size_t)i * ars + (size_t)k0 * aks, ars, aks, ap);
      const float *b = Bm + (size_t)k0 * ldb;
      int j = 0;
      for (; j + 2 * KW <= N; j += 2 * KW) ROWS(R, 2, kc, ap, b + j, ldb, c + j, ldc, in, bias ? bias + j : NULL);
      for (; j + KW <= N; j += KW) ROWS(R, 1, kc, ap, b + j, ldb, c + j, ldc, in, bias ? bias + j : NULL);
      for (; j < N; j++) {
        for (int r = 0; r < R; r++) {
          float s = in == INIT_ACC ? c[(size_t)r * ldc + j] : in == INIT_BIAS ? bias[j] : 0.0f;
          for (int k = 0; k < kc; k++) s += ap[(size_t)k * MR + r] * b[(size_t)k * ldb + j];
          c[(size_t)r * ldc + j] = s;
        }
      }
    }
  }
}
#undef ROWS
