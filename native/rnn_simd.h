/*
 * The vector layer of rnn_kernels.h (included from it, once per instruction set): V is __m256
 * (KW = 8, AVX2 + FMA) or __m512 (KW = 16, AVX-512F), the V* macros are its operations, FN() names
 * a function per set. Full and partial (tail) loads and stores, then exp / sigmoid / tanh.
 */
#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, KSUF)

#if KW == 16
#define V __m512
#define MR 12 /* GEMM micro-tile rows: 12 x 32 columns = 24 of the 32 zmm registers */
#define VL(p) _mm512_loadu_ps(p)
#define VS(p, v) _mm512_storeu_ps((p), (v))
#define V1(x) _mm512_set1_ps(x)
#define VB(p) _mm512_set1_ps(*(p))
#define VZ() _mm512_setzero_ps()
#define VADD _mm512_add_ps
#define VSUB _mm512_sub_ps
#define VMUL _mm512_mul_ps
#define VDIV _mm512_div_ps
#define VFMA _mm512_fmadd_ps   /* a * b + c */
#define VFNMA _mm512_fnmadd_ps /* c - a * b */
#define VMIN _mm512_min_ps
#define VMAX _mm512_max_ps
#define VSQRT _mm512_sqrt_ps
#define VFLOOR(x) _mm512_roundscale_ps((x), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define VRCP(x) _mm512_rcp14_ps(x)
#define VCVTI(x) _mm512_cvtps_epi32(x)
#define VADDI(a, b) _mm512_add_epi32((a), (b))
#define VSLLI(a, n) _mm512_slli_epi32((a), (n))
#define VI1(x) _mm512_set1_epi32(x)
#define VCASTF(a) _mm512_castsi512_ps(a)
#define VMASK(n) ((__mmask16)((1u << (n)) - 1u))
#define VLN(p, n) _mm512_maskz_loadu_ps(VMASK(n), (p))
#define VSN(p, v, n) _mm512_mask_storeu_ps((p), VMASK(n), (v))
#else
#define V __m256
#define MR 6 /* 6 x 16 columns = 12 of the 16 ymm registers */
#define VL(p) _mm256_loadu_ps(p)
#define VS(p, v) _mm256_storeu_ps((p), (v))
#define V1(x) _mm256_set1_ps(x)
#define VB(p) _mm256_broadcast_ss(p)
#define VZ() _mm256_setzero_ps()
#define VADD _mm256_add_ps
#define VSUB _mm256_sub_ps
#define VMUL _mm256_mul_ps
#define VDIV _mm256_div_ps
#define VFMA _mm256_fmadd_ps
#define VFNMA _mm256_fnmadd_ps
#define VMIN _mm256_min_ps
#define VMAX _mm256_max_ps
#define VSQRT _mm256_sqrt_ps
#define VFLOOR(x) _mm256_floor_ps(x)
#define VRCP(x) _mm256_rcp_ps(x)
#define VCVTI(x) _mm256_cvtps_epi32(x)
#define VADDI(a, b) _mm256_add_epi32((a), (b))
#define VSLLI(a, n) _mm256_slli_epi32((a), (n))
#define VI1(x) _mm256_set1_epi32(x)
#define VCASTF(a) _mm256_castsi256_ps(a)
#define VMASK(n) _mm256_loadu_si256((const __m256i *)(kilo_tail_mask + 8 - (n)))
#define VLN(p, n) _mm256_maskload_ps((p), VMASK(n))
#define VSN(p, v, n) _mm256_maskstore_ps((p), VMASK(n), (v))
#endif

/* Full or partial (n < KW lanes, the units tail when U is not a multiple of KW) load and store.
 * Callers pass a constant KW in their main loop, so the branch folds away there. */
static inline __attribute__((always_inline)) V FN(ld)(const float *p, int n) { return n == KW ? VL(p) : VLN(p, n); }
static inline __attribute__((always_inline)) void FN(st)(float *p, V v, int n) {
  if (n == KW) VS(p, v);
  else VSN(p, v, n);
}

/* ------------------------------------------------------------------------------------------ */
/* Activations                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* exp: Cephes-style range reduction and degree-5 polynomial, |rel err| ~ 1e-7. */
static inline __attribute__((always_inline)) V FN(vexp)(V x) {
  /* Constant first: min/max return the second operand when either is NaN, so NaN propagates. */
  x = VMIN(V1(88.3f), VMAX(V1(-87.3f), x));
  V fx = VFLOOR(VFMA(x, V1(1.44269504088896341f), V1(0.5f)));
  x = VFNMA(fx, V1(0.693359375f), x);
  x = VFNMA(fx, V1(-2.12194440e-4f), x);
  V y = V1(1.9875691500e-4f);
  y = VFMA(y, x, V1(1.3981999507e-3f));
  y = VFMA(y, x, V1(8.3334519073e-3f));
  y = VFMA(y, x, V1(4.1665795894e-2f));
  y = VFMA(y, x, V1(1.6666665459e-1f));
  y = VFMA(y, x, V1(5.0000001201e-1f));
  y = VFMA(y, VMUL(x, x), VADD(x, V1(1.0f)));
  return VMUL(y, VCASTF(VSLLI(VADDI(VCVTI(fx), VI1(127)), 23)));
}
/* 1 / d for d >= 1: hardware estimate plus one Newton step (~1 ulp; cheaper than a divide). A NaN
 * stays NaN; d ~ 1e38 (x < -87) gives 0 where the exact value is a denormal. */
static inline __attribute__((always_inline)) V FN(vrecip)(V d) {
  const V r = VRCP(d);
  return VMUL(r, VFNMA(d, r, V1(2.0f)));
}
static inline __attribute__((always_inline)) V FN(vsigmoid)(V x) {
  return FN(vrecip)(VADD(V1(1.0f), FN(vexp)(VSUB(VZ(), x))));
}
/* tanh(x) = 2 sigmoid(2x) - 1 */
static inline __attribute__((always_inline)) V FN(vtanh)(V x) {
  const V s = FN(vsigmoid)(VADD(x, x));
  return VSUB(VADD(s, s), V1(1.0f));
}
