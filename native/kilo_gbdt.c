/*
 * kilo's native tree grower: the histogram GBDT's tree building (src/models/gbdt/tree.ts,
 * TsTreeGrower) in C, optionally on two threads. src/models/gbdt/native.ts is the caller.
 *
 * Same trees, bit for bit: every histogram sums its rows in the same order as the TypeScript
 * grower, the split scan and leaf values use the same IEEE operations in the same order (no FMA:
 * this file is compiled for baseline x86-64/arm64, where gcc cannot contract a*b+c; no fast-math),
 * and ties resolve the same way (first feature, first bin). test/models/gbdt-native.test.ts checks
 * models from both paths (1 and 2 threads) are identical.
 *
 * Threads: a node's work (zero + fill the smaller child's histogram, subtract it from the parent's,
 * scan both children) is cut into chunks of whole features. Any thread may claim any chunk; a
 * chunk's result depends only on its features, and chunk results are combined in feature order, so
 * who computed what never changes the tree. When the helper thread is slow to wake (a busy machine)
 * the calling thread claims the remaining chunks itself instead of waiting.
 *
 * Layouts: bins row-major uint8 [nRows][nCols]; gh class-major float64 [K][nRows][2] (g, h);
 * rows int32 [K][nRows] (each class's rows ascending, partitioned in place); margin [nRows][K];
 * histograms float64, features in blocks of 4 with (g, h) per bin (see ENTRY).
 */
#include <node_api.h>
#include <pthread.h>
/* Where FMA is baseline (arm64), gcc would otherwise fuse a*b+c and round differently from JS. */
#pragma GCC optimize("fp-contract=off")
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Bumped whenever an export's arguments or meaning change: src/models/gbdt/native.ts refuses another
 * value (a stale build after `git pull` without `npm ci`) and uses the TypeScript grower instead. */
#ifndef KILO_GBDT_ABI
#define KILO_GBDT_ABI 1
#endif

#define MAX_CHUNKS 8
#define MIN_SPLIT_GAIN 1e-6 /* XGBoost's kRtEps, as tree.ts */

typedef struct {
  double gain, gl, hl;
  int feature, bin, found;
} Split;

enum { JOB_ROOTS = 1, JOB_ROOT = 2, JOB_CHILDREN = 3 };

typedef struct {
  int kind;
  /* JOB_ROOTS / JOB_ROOT */
  int cls;      /* JOB_ROOT: the class */
  double *roots[64];
  double rootG[64], rootH[64];
  /* JOB_CHILDREN */
  double *parent, *small;
  int lazy; /* the children's children are leaves: scan the larger child as parent - small */
  int sBegin, sEnd;
  double sG, sH, lG, lH;
  /* common */
  int begin, end; /* JOB_ROOT rows */
  Split out[64][MAX_CHUNKS]; /* JOB_ROOTS: [class][chunk]; JOB_CHILDREN: [0 small | 1 large][chunk] */
  atomic_int next, done;
} Job;

typedef struct Grower {
  int N, F, K, maxDepth, maxNodes, threads, nchunks;
  double mcw, lambda, gamma, eta;
  uint8_t *bins;
  int32_t *nBins;
  size_t BS; /* doubles per block of 4 features */
  int blocks;
  size_t histLen;
  int chunkB[MAX_CHUNKS + 1]; /* chunk c covers feature blocks chunkB[c] .. chunkB[c + 1] */
  double **pool;
  int poolSize, nFree;
  double **freeList;
  int32_t *tmp;
  /* per round */
  const double *gh;
  int32_t *rows;
  const uint8_t *featOn;
  double *margin;
  int cls;
  const double *ghk;
  const uint8_t *onk;
  int32_t *oF, *oB, *oL, *oR;
  double *oV, *oG;
  int nodeCount;
  /* threading */
  Job job;
  pthread_t thread;
  int hasThread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  atomic_int seq, sleeping, quit;
  int benched, benchFor; /* jobs left without the helper, and the next penalty (see run_job) */
  int closed;
} Grower;

/* ------------------------------------------------------------------------------------------ */
/* Histogram kernels                                                                           */
/* ------------------------------------------------------------------------------------------ */

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

/*
 * Histogram layout: features in blocks of 4; a block holds, per bin, the (g, h) of its 4 features
 * side by side (one 64-byte line), so the split scan walks 4 features at once with vector ops.
 * Entry (f, bin) is at (f / 4) * BS + 8 * bin + 2 * (f % 4).
 */
#define ENTRY(g, f, bin) ((size_t)((f) >> 2) * (g)->BS + 8 * (size_t)(bin) + 2 * ((f) & 3))

/* hist += (g, h) of rows[begin, end) of class gh `ghk`, features of blocks b0..b1. */
static void fill(const Grower *g, double *restrict hist, const int32_t *restrict rows, int begin, int end, const double *restrict ghk, int b0,
                 int b1) {
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
static void fill_roots(const Grower *g, double **roots, int b0, int b1) {
  const int F = g->F, K = g->K, N = g->N, f0 = 4 * b0, f1 = 4 * b1 < F ? 4 * b1 : F;
  const size_t co = 2 * (size_t)N;
  if (K == 3) {
    double *restrict a = roots[0], *restrict b = roots[1], *restrict c = roots[2];
    const double *restrict gh = g->gh;
    for (int r = 0; r < N; r++) {
      const gh_t va = gh_load(gh + 2 * (size_t)r), vb = gh_load(gh + co + 2 * (size_t)r), vc = gh_load(gh + 2 * co + 2 * (size_t)r);
      const uint8_t *restrict bn = g->bins + (size_t)r * F;
      for (int f = f0; f < f1; f++) {
        const size_t k = ENTRY(g, f, bn[f]);
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
      for (int f = f0; f < f1; f++) gh_add(h + ENTRY(g, f, bn[f]), x);
    }
  }
}

static void zero(const Grower *g, double *hist, int b0, int b1) {
  memset(hist + (size_t)b0 * g->BS, 0, sizeof(double) * (size_t)(b1 - b0) * g->BS);
}

static void subtract(const Grower *g, double *restrict parent, const double *restrict small, int b0, int b1) {
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
static void scan(const Grower *g, const double *hist, const double *sub, double G, double H, const uint8_t *on, int b0, int b1, Split *best) {
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
static Split combine(const Grower *g, const Split *parts) {
  Split best = parts[0];
  for (int c = 1; c < g->nchunks; c++)
    if (parts[c].found && (!best.found || parts[c].gain > best.gain)) best = parts[c];
  return best;
}

static void run_chunk(Grower *g, int c) {
  Job *j = &g->job;
  const int f0 = g->chunkB[c], f1 = g->chunkB[c + 1];
  if (j->kind == JOB_ROOTS) {
    for (int k = 0; k < g->K; k++) zero(g, j->roots[k], f0, f1);
    fill_roots(g, j->roots, f0, f1);
    for (int k = 0; k < g->K; k++) scan(g, j->roots[k], NULL, j->rootG[k], j->rootH[k], g->featOn + (size_t)k * g->F, f0, f1, &j->out[k][c]);
  } else if (j->kind == JOB_ROOT) {
    zero(g, j->roots[0], f0, f1);
    fill(g, j->roots[0], g->rows, j->begin, j->end, g->ghk, f0, f1);
    scan(g, j->roots[0], NULL, j->rootG[0], j->rootH[0], g->onk, f0, f1, &j->out[0][c]);
  } else {
    zero(g, j->small, f0, f1);
    fill(g, j->small, g->rows, j->sBegin, j->sEnd, g->ghk, f0, f1);
    scan(g, j->small, NULL, j->sG, j->sH, g->onk, f0, f1, &j->out[0][c]);
    if (j->lazy) {
      scan(g, j->parent, j->small, j->lG, j->lH, g->onk, f0, f1, &j->out[1][c]);
    } else {
      subtract(g, j->parent, j->small, f0, f1);
      scan(g, j->parent, NULL, j->lG, j->lH, g->onk, f0, f1, &j->out[1][c]);
    }
  }
}

static void claim_chunks(Grower *g) {
  Job *j = &g->job;
  for (;;) {
    const int c = atomic_fetch_add(&j->next, 1);
    if (c >= g->nchunks) return;
    run_chunk(g, c);
    atomic_fetch_add(&j->done, 1);
  }
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static inline uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A job the helper made the caller wait this long for (it was descheduled holding a chunk: a busy
 * machine) benches the helper for a while; each repeat doubles the while. */
#define LATE_NS 200000
#define BENCH_MIN 16
#define BENCH_MAX 4096

/* Runs the job set up in g->job; returns when all its chunks are done. */
static void run_job(Grower *g) {
  Job *j = &g->job;
  /* done before next: a helper still leaving the previous job may claim a chunk of this one as
   * soon as next is reset, and its completion must not be wiped by a later reset of done. */
  atomic_store(&j->done, 0);
  atomic_store(&j->next, 0);
  const int offer = g->hasThread && g->benched == 0;
  if (g->benched > 0) g->benched--;
  if (offer) {
    atomic_fetch_add(&g->seq, 1);
    if (atomic_load(&g->sleeping)) {
      pthread_mutex_lock(&g->mu);
      pthread_cond_signal(&g->cv);
      pthread_mutex_unlock(&g->mu);
    }
  }
  claim_chunks(g);
  if (atomic_load(&j->done) == g->nchunks) return;
  const uint64_t t0 = now_ns();
  for (int spins = 0; atomic_load(&j->done) < g->nchunks; spins++) {
    if (spins < 2048) cpu_relax();
    else sched_yield();
  }
  if (now_ns() - t0 > LATE_NS) {
    g->benchFor = g->benchFor ? (g->benchFor * 2 > BENCH_MAX ? BENCH_MAX : g->benchFor * 2) : BENCH_MIN;
    g->benched = g->benchFor;
  } else if (offer) {
    g->benchFor /= 2;
  }
}

static void *helper(void *arg) {
  Grower *g = arg;
  int seen = atomic_load(&g->seq);
  for (;;) {
    /* Jobs come every few microseconds within a round: spin ~100 us before sleeping. */
    const uint64_t until = now_ns() + 100000;
    for (int spins = 0; atomic_load(&g->seq) == seen && !atomic_load(&g->quit); spins++) {
      cpu_relax();
      if ((spins & 63) == 63 && now_ns() > until) break;
    }
    if (atomic_load(&g->seq) == seen && !atomic_load(&g->quit)) {
      pthread_mutex_lock(&g->mu);
      atomic_store(&g->sleeping, 1);
      while (atomic_load(&g->seq) == seen && !atomic_load(&g->quit)) pthread_cond_wait(&g->cv, &g->mu);
      atomic_store(&g->sleeping, 0);
      pthread_mutex_unlock(&g->mu);
    }
    if (atomic_load(&g->quit)) return NULL;
    seen = atomic_load(&g->seq);
    claim_chunks(g);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Tree growth (depth-first, preorder node ids: tree.ts grow)                                  */
/* ------------------------------------------------------------------------------------------ */

static double *acquire(Grower *g) {
  if (g->nFree > 0) return g->freeList[--g->nFree];
  return NULL; /* pool is sized for the deepest recursion: cannot happen */
}

static void release(Grower *g, double *h) {
  if (h) g->freeList[g->nFree++] = h;
}

/* Stable in-place partition of rows[begin, end): bin <= splitBin first. Branch-free: which side a
 * row goes is a coin toss to the branch predictor. */
static int partition(Grower *g, int begin, int end, int f, int splitBin) {
  int32_t *restrict rows = g->rows, *restrict tmp = g->tmp;
  const uint8_t *restrict col = g->bins + f;
  const size_t F = g->F;
  int w = begin, t = 0;
  for (int i = begin; i < end; i++) {
    const int r = rows[i];
    const int left = col[(size_t)r * F] <= splitBin;
    rows[w] = r;
    tmp[t] = r;
    w += left;
    t += !left;
  }
  memcpy(rows + w, tmp, sizeof(int32_t) * t);
  return w;
}

/* `hist` is the node's histogram (NULL when its children will not need it), `sp` its scanned best split. */
static int grow(Grower *g, double *hist, Split sp, int begin, int end, double G, double H, int depth) {
  const int id = g->nodeCount++;
  if (depth >= g->maxDepth || !sp.found) {
    release(g, hist);
    const double v = (double)(float)((-G / (H + g->lambda)) * g->eta);
    g->oF[id] = -1;
    g->oB[id] = 0;
    g->oL[id] = -1;
    g->oR[id] = -1;
    g->oV[id] = v;
    g->oG[id] = 0;
    const int K = g->K, k = g->cls;
    for (int i = begin; i < end; i++) g->margin[(size_t)g->rows[i] * K + k] += v;
    return id;
  }
  g->oF[id] = sp.feature;
  g->oB[id] = sp.bin;
  g->oV[id] = 0;
  g->oG[id] = sp.gain;
  const int mid = partition(g, begin, end, sp.feature, sp.bin);
  const double gl = sp.gl, hl = sp.hl, gr = G - gl, hr = H - hl;
  double *lHist = NULL, *rHist = NULL;
  Split ls = {0}, rs = {0};
  if (depth + 1 < g->maxDepth) {
    double *small = acquire(g);
    const int leftSmall = mid - begin <= end - mid;
    Job *j = &g->job;
    j->kind = JOB_CHILDREN;
    j->parent = hist;
    j->small = small;
    j->sBegin = leftSmall ? begin : mid;
    j->sEnd = leftSmall ? mid : end;
    j->sG = leftSmall ? gl : gr;
    j->sH = leftSmall ? hl : hr;
    j->lG = leftSmall ? gr : gl;
    j->lH = leftSmall ? hr : hl;
    j->lazy = depth + 2 >= g->maxDepth;
    run_job(g);
    const Split ss = combine(g, j->out[0]), bs = combine(g, j->out[1]);
    if (j->lazy) {
      release(g, hist);
      release(g, small);
    } else {
      lHist = leftSmall ? small : hist;
      rHist = leftSmall ? hist : small;
    }
    ls = leftSmall ? ss : bs;
    rs = leftSmall ? bs : ss;
  } else {
    release(g, hist);
  }
  g->oL[id] = grow(g, lHist, ls, begin, mid, gl, hl, depth + 1);
  g->oR[id] = grow(g, rHist, rs, mid, end, gr, hr, depth + 1);
  return id;
}

static void grow_round(Grower *g, const int32_t *nUsed, int32_t *counts) {
  const int K = g->K, N = g->N, M = g->maxNodes;
  int shared = K > 1;
  for (int k = 0; k < K; k++)
    if (nUsed[k] != N) shared = 0;
  Job *j = &g->job;
  if (shared) {
    j->kind = JOB_ROOTS;
    for (int k = 0; k < K; k++) {
      j->roots[k] = acquire(g);
      const double *v = g->gh + (size_t)k * 2 * N;
      double G = 0, H = 0;
      for (int r = 0; r < N; r++) {
        G += v[2 * r];
        H += v[2 * r + 1];
      }
      j->rootG[k] = G;
      j->rootH[k] = H;
    }
    run_job(g);
  }
  double *roots[64];
  Split splits[64];
  double rootG[64], rootH[64];
  if (shared) {
    for (int k = 0; k < K; k++) {
      roots[k] = j->roots[k];
      splits[k] = combine(g, j->out[k]);
      rootG[k] = j->rootG[k];
      rootH[k] = j->rootH[k];
    }
  }
  for (int k = 0; k < K; k++) {
    g->cls = k;
    g->ghk = g->gh + (size_t)k * 2 * N;
    g->onk = g->featOn + (size_t)k * g->F;
    const size_t o = (size_t)k * M;
    int32_t *oF = g->oF, *oB = g->oB, *oL = g->oL, *oR = g->oR;
    double *oV = g->oV, *oG = g->oG;
    g->oF = oF + o;
    g->oB = oB + o;
    g->oL = oL + o;
    g->oR = oR + o;
    g->oV = oV + o;
    g->oG = oG + o;
    const int begin = k * N, end = k * N + nUsed[k];
    if (!shared) {
      double *h = acquire(g);
      double G = 0, H = 0;
      for (int i = begin; i < end; i++) {
        const int r = g->rows[i];
        G += g->ghk[2 * r];
        H += g->ghk[2 * r + 1];
      }
      j->kind = JOB_ROOT;
      j->roots[0] = h;
      j->rootG[0] = G;
      j->rootH[0] = H;
      j->begin = begin;
      j->end = end;
      run_job(g);
      roots[k] = h;
      splits[k] = combine(g, j->out[0]);
      rootG[k] = G;
      rootH[k] = H;
    }
    g->nodeCount = 0;
    grow(g, roots[k], splits[k], begin, end, rootG[k], rootH[k], 0);
    counts[k] = g->nodeCount;
    g->oF = oF;
    g->oB = oB;
    g->oL = oL;
    g->oR = oR;
    g->oV = oV;
    g->oG = oG;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Lifetime                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void stop_thread(Grower *g) {
  if (!g->hasThread) return;
  pthread_mutex_lock(&g->mu);
  atomic_store(&g->quit, 1);
  pthread_cond_signal(&g->cv);
  pthread_mutex_unlock(&g->mu);
  pthread_join(g->thread, NULL);
  g->hasThread = 0;
}

static void grower_close(Grower *g) {
  if (g->closed) return;
  g->closed = 1;
  stop_thread(g);
  for (int i = 0; i < g->poolSize; i++) free(g->pool[i]);
  free(g->pool);
  free(g->freeList);
  free(g->bins);
  free(g->nBins);
  free(g->tmp);
  g->pool = g->freeList = NULL;
  g->bins = NULL;
  g->nBins = g->tmp = NULL;
  pthread_mutex_destroy(&g->mu);
  pthread_cond_destroy(&g->cv);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  grower_close(data);
  free(data);
}

/* ------------------------------------------------------------------------------------------ */
/* Node-API                                                                                    */
/* ------------------------------------------------------------------------------------------ */

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, "KILO_NATIVE", "Node-API call failed: " #call);      \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

static int arg_error(napi_env env, const char *what, const char *why) {
  char msg[200];
  snprintf(msg, sizeof msg, "%s: %s", what, why);
  napi_throw_type_error(env, "KILO_NATIVE_ARG", msg);
  return 0;
}

static int get_int(napi_env env, napi_value v, int *out, const char *what) {
  if (napi_get_value_int32(env, v, out) != napi_ok) return arg_error(env, what, "expected an integer");
  return 1;
}

static int get_num(napi_env env, napi_value v, double *out, const char *what) {
  if (napi_get_value_double(env, v, out) != napi_ok) return arg_error(env, what, "expected a number");
  return 1;
}

/* A typed array of the given type holding at least `want` elements. */
static int get_arr(napi_env env, napi_value v, napi_typedarray_type type, size_t want, void **data, const char *what) {
  bool is;
  napi_typedarray_type t;
  size_t len;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return arg_error(env, what, "expected a typed array");
  if (napi_get_typedarray_info(env, v, &t, &len, data, NULL, NULL) != napi_ok || t != type) return arg_error(env, what, "wrong typed array type");
  if (len < want) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s has %zu elements, needs %zu", what, len, want);
    napi_throw_range_error(env, "KILO_NATIVE_SIZE", msg);
    return 0;
  }
  return 1;
}

static Grower *get_grower(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    arg_error(env, "grower", "expected a grower from createGrower");
    return NULL;
  }
  Grower *g = p;
  if (g->closed) {
    napi_throw_error(env, "KILO_NATIVE_CLOSED", "grower is closed");
    return NULL;
  }
  return g;
}

/* createGrower(bins u8[N*F], N, F, nBins i32[F], K, maxDepth, minChildWeight, lambda, gamma, eta, threads) */
static napi_value CreateGrower(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 11) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "createGrower expects 11 arguments");
    return NULL;
  }
  int N, F, K, maxDepth, threads;
  double mcw, lambda, gamma, eta;
  if (!get_int(env, argv[1], &N, "nRows") || !get_int(env, argv[2], &F, "nCols") || !get_int(env, argv[4], &K, "nClasses") ||
      !get_int(env, argv[5], &maxDepth, "maxDepth") || !get_num(env, argv[6], &mcw, "minChildWeight") ||
      !get_num(env, argv[7], &lambda, "lambda") || !get_num(env, argv[8], &gamma, "gamma") || !get_num(env, argv[9], &eta, "eta") ||
      !get_int(env, argv[10], &threads, "threads"))
    return NULL;
  if (N < 1 || F < 1 || K < 1 || K > 64 || maxDepth < 1 || maxDepth > 16 || threads < 1) {
    napi_throw_range_error(env, "KILO_NATIVE_ARG", "createGrower: need nRows, nCols >= 1, 1 <= nClasses <= 64, 1 <= maxDepth <= 16, threads >= 1");
    return NULL;
  }
  void *binsIn, *nBinsIn;
  if (!get_arr(env, argv[0], napi_uint8_array, (size_t)N * F, &binsIn, "bins") || !get_arr(env, argv[3], napi_int32_array, F, &nBinsIn, "nBins"))
    return NULL;
  Grower *g = calloc(1, sizeof(Grower));
  if (!g) {
    napi_throw_error(env, "KILO_NATIVE_MEMORY", "createGrower: out of memory");
    return NULL;
  }
  g->N = N;
  g->F = F;
  g->K = K;
  g->maxDepth = maxDepth;
  g->maxNodes = (1 << (maxDepth + 1)) - 1;
  g->mcw = mcw;
  g->lambda = lambda;
  g->gamma = gamma;
  g->eta = eta;
  g->threads = threads > 2 ? 2 : threads;
  /* The grower keeps its own copy: the JS buffers may move or be reused. */
  g->bins = malloc((size_t)N * F);
  g->nBins = malloc(sizeof(int32_t) * F);
  g->tmp = malloc(sizeof(int32_t) * N);
  int widest = 1;
  if (g->bins && g->nBins) {
    memcpy(g->bins, binsIn, (size_t)N * F);
    memcpy(g->nBins, nBinsIn, sizeof(int32_t) * F);
    for (int f = 0; f < F; f++) {
      if (g->nBins[f] < 1 || g->nBins[f] > 256) {
        free(g->bins), free(g->nBins), free(g->tmp), free(g);
        napi_throw_range_error(env, "KILO_NATIVE_ARG", "createGrower: nBins must be in [1, 256]");
        return NULL;
      }
      if (g->nBins[f] > widest) widest = g->nBins[f];
    }
  }
  g->BS = 8 * (size_t)widest;
  g->blocks = (F + 3) / 4;
  g->histLen = (size_t)g->blocks * g->BS;
  /* Roots of all classes, one pending sibling per level, one child being filled. */
  g->poolSize = K + maxDepth + 2;
  g->pool = calloc(g->poolSize, sizeof(double *));
  g->freeList = calloc(g->poolSize, sizeof(double *));
  int ok = g->bins && g->nBins && g->tmp && g->pool && g->freeList;
  for (int i = 0; ok && i < g->poolSize; i++) {
    g->pool[i] = aligned_alloc(64, ((sizeof(double) * g->histLen + 63) / 64) * 64);
    ok = g->pool[i] != NULL;
    if (ok) g->freeList[g->nFree++] = g->pool[i];
  }
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  if (!ok) {
    grower_close(g);
    free(g);
    napi_throw_error(env, "KILO_NATIVE_MEMORY", "createGrower: out of memory");
    return NULL;
  }
  /* Chunks of whole feature blocks with about equal bin counts; a few per thread so a late
   * thread costs little. One chunk when single-threaded: no split work at all. */
  int want = g->threads == 1 ? 1 : 4;
  if (want > g->blocks) want = g->blocks;
  long total = 0;
  for (int f = 0; f < F; f++) total += g->nBins[f];
  g->chunkB[0] = 0;
  int c = 1;
  long acc = 0;
  for (int b = 0; b < g->blocks && c < want; b++) {
    for (int f = 4 * b; f < 4 * b + 4 && f < F; f++) acc += g->nBins[f];
    if (acc * want >= total * c && g->blocks - (b + 1) >= want - c) g->chunkB[c++] = b + 1;
  }
  g->nchunks = c;
  g->chunkB[c] = g->blocks;
  if (g->threads > 1) {
    if (pthread_create(&g->thread, NULL, helper, g) == 0) g->hasThread = 1;
    else g->threads = 1;
  }
  napi_value ext;
  if (napi_create_external(env, g, finalize, NULL, &ext) != napi_ok) {
    grower_close(g);
    free(g);
    napi_throw_error(env, "KILO_NATIVE", "createGrower: napi_create_external failed");
    return NULL;
  }
  return ext;
}

/* growRound(grower, gh f64[K*N*2], rows i32[K*N], nUsed i32[K], featOn u8[K*F], margin f64[N*K],
 *           feature i32[K*M], bin i32[K*M], left i32[K*M], right i32[K*M], value f64[K*M], gain f64[K*M],
 *           counts i32[K]) with M = 2^(maxDepth+1) - 1 */
static napi_value GrowRound(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 13) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "growRound expects 13 arguments");
    return NULL;
  }
  Grower *g = get_grower(env, argv[0]);
  if (!g) return NULL;
  const size_t N = g->N, K = g->K, F = g->F, M = g->maxNodes;
  void *gh, *rows, *nUsed, *featOn, *margin, *oF, *oB, *oL, *oR, *oV, *oG, *counts;
  if (!get_arr(env, argv[1], napi_float64_array, K * N * 2, &gh, "gh") || !get_arr(env, argv[2], napi_int32_array, K * N, &rows, "rows") ||
      !get_arr(env, argv[3], napi_int32_array, K, &nUsed, "nUsed") || !get_arr(env, argv[4], napi_uint8_array, K * F, &featOn, "featOn") ||
      !get_arr(env, argv[5], napi_float64_array, N * K, &margin, "margin") ||
      !get_arr(env, argv[6], napi_int32_array, K * M, &oF, "feature") || !get_arr(env, argv[7], napi_int32_array, K * M, &oB, "bin") ||
      !get_arr(env, argv[8], napi_int32_array, K * M, &oL, "left") || !get_arr(env, argv[9], napi_int32_array, K * M, &oR, "right") ||
      !get_arr(env, argv[10], napi_float64_array, K * M, &oV, "value") || !get_arr(env, argv[11], napi_float64_array, K * M, &oG, "gain") ||
      !get_arr(env, argv[12], napi_int32_array, K, &counts, "counts"))
    return NULL;
  const int32_t *used = nUsed;
  const int32_t *rw = rows;
  for (size_t k = 0; k < K; k++) {
    if (used[k] < 0 || (size_t)used[k] > N) {
      napi_throw_range_error(env, "KILO_NATIVE_ARG", "growRound: nUsed out of range");
      return NULL;
    }
    for (int i = 0; i < used[k]; i++) {
      if (rw[k * N + i] < 0 || (size_t)rw[k * N + i] >= N) {
        napi_throw_range_error(env, "KILO_NATIVE_ARG", "growRound: row index out of range");
        return NULL;
      }
    }
  }
  g->gh = gh;
  g->rows = rows;
  g->featOn = featOn;
  g->margin = margin;
  g->oF = oF;
  g->oB = oB;
  g->oL = oL;
  g->oR = oR;
  g->oV = oV;
  g->oG = oG;
  grow_round(g, used, counts);
  g->gh = NULL;
  g->rows = NULL;
  g->margin = NULL;
  return NULL;
}

/* closeGrower(grower): stops the helper thread and frees the buffers now (the finalizer would later). */
static napi_value CloseGrower(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *p = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "closeGrower expects a grower");
    return NULL;
  }
  grower_close(p);
  return NULL;
}

/* growerThreads(grower) -> threads actually running (1 when the helper could not start). */
static napi_value GrowerThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Grower *g = argc < 1 ? NULL : get_grower(env, argv[0]);
  if (!g) return NULL;
  CHECK(napi_create_int32(env, g->threads, &out));
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value v;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) scan_block = scan_block_avx, scan_lazy = scan_lazy_avx;
#endif
  if (napi_create_int32(env, KILO_GBDT_ABI, &v) != napi_ok || napi_set_named_property(env, exports, "abi", v) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"createGrower", NULL, CreateGrower, NULL, NULL, NULL, napi_default, NULL},
      {"growRound", NULL, GrowRound, NULL, NULL, NULL, napi_default, NULL},
      {"closeGrower", NULL, CloseGrower, NULL, NULL, NULL, napi_default, NULL},
      {"growerThreads", NULL, GrowerThreads, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 4, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
