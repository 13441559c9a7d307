/*
 * kilo's native tree grower: histograms (fill, subtract) and the split scan. See kilo_gbdt.h.
 */
#include "kilo_gbdt.h"
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* (g, h) pairs: two lanes of one IEEE add each, exactly the scalar sums. */
#if defined(__SSE2__)
typedef __m128d gh_t;
static inline gh_t gh_load(const double *v) { return _mm_loadu_pd(v); }
static inline void gh_add(double *p, gh_t v) { _mm_store_pd(p, _mm_add_pd(_mm_load_pd(p), v)); }
#else
typedef struct { double g, h; } gh_t;
static inline gh_t gh_load(const double *v) { gh_t x = {v[0], v[1]}; return x; }
static inline void gh_add(double *p, gh_t v) { p[0] += v.g; p[1] += v.h; }
#endif

/* Histogram layout: features in blocks of 4; a block holds, per bin, the (g, h) of its 4 features
 * side by side (one 64-byte line), so the split scan walks 4 features at once with vector ops. */

/* hist += (g, h) of rows[begin, end) of class gh `ghk`, features of blocks b0..b1. */
void kg_fill(const Grower *g, double *restrict hist, const int32_t *restrict rows, int begin, int end, const double *restrict ghk, int b0, int b1) {
  const int F = g->F, f0 = 4 * b0, f1 = 4 * b1 < F ? 4 * b1 : F;
  const size_t BS = g->BS;
  for (int i = begin; i < end; i++) {
    const int r = rows[i];
    const gh_t v = gh_load(ghk + 2 * (size_t)r);
    const uint8_t *restrict bn = g->bins + (size_t)r * F;
    double *blk = hist + (size_t)b0 * BS;
    int f = f0;
    for (; f + 4 <= f1; f += 4, blk += BS) {
      gh_add(blk + 8 * bn[f], v);
      gh_add(blk + 8 * bn[f + 1] + 2, v);
      gh_add(blk + 8 * bn[f + 2] + 4, v);
      gh_add(blk + 8 * bn[f + 3] + 6, v);
    }
    for (; f < f1; f++) gh_add(blk + 8 * bn[f] + 2 * (f & 3), v);
  }
}

/* Every row into the K root histograms, blocks b0..b1: one bin load feeds K classes. */
void kg_fill_roots(const Grower *g, double **roots, int b0, int b1) {
  const int F = g->F, K = g->K, N = g->N, f0 = 4 * b0, f1 = 4 * b1 < F ? 4 * b1 : F;
  const size_t co = 2 * (size_t)N;
  if (K == 3) {
    double *restrict a = roots[0], *restrict b = roots[1], *restrict c = roots[2];
    const double *restrict gh = g->gh;
    for (int r = 0; r < N; r++) {
      const gh_t va = gh_load(gh + 2 * (size_t)r), vb = gh_load(gh + co + 2 * (size_t)r), vc = gh_load(gh + 2 * co + 2 * (size_t)r);
      const uint8_t *restrict bn = g->bins + (size_t)r * F;
      for (int f = f0; f < f1; f++) {
        const size_t k = KG_ENTRY(g, f, bn[f]);
        gh_add(a + k, va);
        gh_add(b + k, vb);
        gh_add(c + k, vc);
      }
    }
    return;
  }
  for (int k = 0; k < K; k++) {
    double *restrict h = roots[k];
    const double *restrict v = g->gh + k * co;
    for (int r = 0; r < N; r++) {
      const gh_t x = gh_load(v + 2 * (size_t)r);
      const uint8_t *restrict bn = g->bins + (size_t)r * F;
      for (int f = f0; f < f1; f++) gh_add(h + KG_ENTRY(g, f, bn[f]), x);
    }
  }
}

void kg_zero(const Grower *g, double *hist, int b0, int b1) {
  memset(hist + (size_t)b0 * g->BS, 0, sizeof(double) * (size_t)(b1 - b0) * g->BS);
}

void kg_subtract(const Grower *g, double *restrict parent, const double *restrict small, int b0, int b1) {
  const size_t a = (size_t)b0 * g->BS, b = (size_t)b1 * g->BS;
  for (size_t i = a; i < b; i++) parent[i] -= small[i];
}

/*
 * The split scan of tree.ts findSplit, 4 features at a time (one per vector lane), with the same
 * IEEE operations per feature in the same order: per lane, skip empty bins (adding +0.0 to the
 * running g sum is exact), accumulate, consider "bin <= b" only when both sides weigh at least
 * minChildWeight and stop the lane for good once the right side does not (the sequential `break`),
 * keep the first largest gain. Vector extensions: AVX2 where the CPU has it (chosen at load), SSE2
 * pairs otherwise; the values are the same either way.
 */
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4l __attribute__((vector_size(32)));

typedef struct {
  double gain[4], gl[4], hl[4];
  long long bin[4];
} LaneBest;

#define SCAN_BLOCK(NAME, ATTR, LAZY)                                                                                  \
  ATTR static void NAME(const double *blk, const double *sub, int steps, const double *last, double G, double H,      \
                        double mcw, double lambda, double ps, double thr, LaneBest *out) {                            \
    const v4d zero = {0, 0, 0, 0}, one = zero + 1, Gv = zero + G, Hv = zero + H, mv = zero + mcw, lv = zero + lambda; \
    const v4d pv = zero + ps, lastv = {last[0], last[1], last[2], last[3]};                                           \
    v4d gl = zero, hl = zero, best = zero + thr, bgl = zero, bhl = zero, bbin = zero - 1, bv = zero;                  \
    v4l live = lastv > zero;                                                                                          \
    for (int b = 0; b < steps; b++, bv += one) {                                                                      \
      v4d A = *(const v4d *)(blk + 8 * (size_t)b), B = *(const v4d *)(blk + 8 * (size_t)b + 4);                      \
      if (LAZY) {                                                                                                     \
        A -= *(const v4d *)(sub + 8 * (size_t)b);                                                                     \
        B -= *(const v4d *)(sub + 8 * (size_t)b + 4);                                                                 \
      }                                                                                                               \
      const v4d gv = __builtin_shuffle(A, B, (v4l){0, 2, 4, 6}), hv = __builtin_shuffle(A, B, (v4l){1, 3, 5, 7});    \
      const v4l nz = hv != zero;                                                                                      \
      gl += (v4d)((v4l)gv & nz);                                                                                      \
      hl += hv;                                                                                                       \
      live &= bv < lastv;                                                                                             \
      v4l ok = nz & (hl >= mv) & live;                                                                                \
      const v4d hr = Hv - hl;                                                                                         \
      const v4l stop = ok & (hr < mv);                                                                                \
      live &= ~stop;                                                                                                  \
      ok &= ~stop;                                                                                                    \
      const v4d gr = Gv - gl;                                                                                         \
      const v4d gain = (gl * gl) / (hl + lv) + (gr * gr) / (hr + lv) - pv;                                            \
      const v4l better = ok & (gain > best);                                                                          \
      best = (v4d)(((v4l)gain & better) | ((v4l)best & ~better));                                                     \
      bgl = (v4d)(((v4l)gl & better) | ((v4l)bgl & ~better));                                                         \
      bhl = (v4d)(((v4l)hl & better) | ((v4l)bhl & ~better));                                                         \
      bbin = (v4d)(((v4l)bv & better) | ((v4l)bbin & ~better));                                                       \
      if ((b & 7) == 7 && !(live[0] | live[1] | live[2] | live[3])) break;                                           \
    }                                                                                                                 \
    for (int l = 0; l < 4; l++) {                                                                                     \
      out->gain[l] = best[l];                                                                                         \
      out->gl[l] = bgl[l];                                                                                            \
      out->hl[l] = bhl[l];                                                                                            \
      out->bin[l] = (long long)bbin[l];                                                                               \
    }                                                                                                                 \
  }

SCAN_BLOCK(scan_block_base, , 0)
SCAN_BLOCK(scan_lazy_base, , 1)
#if defined(__x86_64__)
SCAN_BLOCK(scan_block_avx, __attribute__((target("avx2"))), 0)
SCAN_BLOCK(scan_lazy_avx, __attribute__((target("avx2"))), 1)
#endif
typedef void (*ScanFn)(const double *, const double *, int, const double *, double, double, double, double, double, double, LaneBest *);
static ScanFn scan_block = scan_block_base, scan_lazy = scan_lazy_base;

/* Best split over the allowed features of blocks b0..b1 of one node (features in order, first wins);
 * the node's histogram is `hist`, or hist - sub when sub is not NULL (read, never stored). */
void kg_scan(const Grower *g, const double *hist, const double *sub, double G, double H, const uint8_t *on, int b0, int b1, Split *best) {
  best->found = 0;
  const double mcw = g->mcw, lambda = g->lambda;
  double bestGain = g->gamma > MIN_SPLIT_GAIN ? g->gamma : MIN_SPLIT_GAIN;
  best->gain = bestGain;
  if (H < 2 * mcw) return;
  const double parentScore = (G * G) / (H + lambda);
  const double thr = bestGain;
  for (int blk = b0; blk < b1; blk++) {
    double last[4];
    int steps = 0;
    for (int l = 0; l < 4; l++) {
      const int f = 4 * blk + l;
      last[l] = f < g->F && on[f] ? g->nBins[f] - 1 : 0;
      if (last[l] > steps) steps = (int)last[l];
    }
    if (!steps) continue;
    LaneBest lb;
    const size_t o = (size_t)blk * g->BS;
    if (sub) scan_lazy(hist + o, sub + o, steps, last, G, H, mcw, lambda, parentScore, thr, &lb);
    else scan_block(hist + o, NULL, steps, last, G, H, mcw, lambda, parentScore, thr, &lb);
    for (int l = 0; l < 4; l++) {
      if (lb.bin[l] >= 0 && lb.gain[l] > bestGain) {
        bestGain = lb.gain[l];
        best->found = 1;
        best->feature = 4 * blk + l;
        best->bin = (int)lb.bin[l];
        best->gl = lb.gl[l];
        best->hl = lb.hl[l];
      }
    }
  }
  best->gain = bestGain;
}

/* Chunk results in feature order: the first of equal gains wins, as in one sequential scan. */
Split kg_combine(const Grower *g, const Split *parts) {
  Split best = parts[0];
  for (int c = 1; c < g->nchunks; c++)
    if (parts[c].found && (!best.found || parts[c].gain > best.gain)) best = parts[c];
  return best;
}

static void pick_scan(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) scan_block = scan_block_avx, scan_lazy = scan_lazy_avx;
#endif
}

/* The AVX2 scan where the CPU has it (the values are the same either way); once per process, as
 * every worker thread that loads the module calls this. */
void kg_hist_init(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, pick_scan);
}
