/*
 * kilo's native tree grower, shared declarations: kilo_gbdt_hist.c (histograms and the split
 * scan), kilo_gbdt_grow.c (threads and tree growth), kilo_gbdt.c (the Node-API module).
 * src/models/gbdt/native.ts is the caller; src/models/gbdt/tree.ts (TsTreeGrower) is the reference.
 *
 * Same trees, bit for bit: every histogram sums its rows in the same order as the TypeScript
 * grower, the split scan and leaf values use the same IEEE operations in the same order (no
 * fused multiply-add: fp-contract is off; no fast-math; vector lanes are plain IEEE ops), and ties
 * resolve the same way (first feature, first bin). test/models/gbdt-native.test.ts checks models
 * from both paths (1 and 2 threads) are identical.
 *
 * Layouts: bins row-major uint8 [nRows][nCols]; gh class-major float64 [K][nRows][2] (g, h);
 * rows int32 [K][nRows] (each class's rows ascending, partitioned in place); margin [nRows][K];
 * histograms float64, features in blocks of 4 with (g, h) per bin (see KG_ENTRY).
 */
#ifndef KILO_GBDT_H
#define KILO_GBDT_H
/* Where FMA is baseline (arm64), gcc would otherwise fuse a*b+c and round differently from JS. */
#pragma GCC optimize("fp-contract=off")
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define KG_INTERNAL __attribute__((visibility("hidden")))

#define MAX_CHUNKS 8
#define MIN_SPLIT_GAIN 1e-6 /* XGBoost's kRtEps, as tree.ts */

typedef struct {
  double gain, gl, hl;
  int feature, bin, found;
} Split;

enum { JOB_ROOTS = 1, JOB_ROOT = 2, JOB_CHILDREN = 3, JOB_GRADIENTS = 4 };

typedef struct {
  int kind, nchunks;
  /* JOB_ROOTS / JOB_ROOT */
  double *roots[64];
  double rootG[64], rootH[64];
  /* JOB_CHILDREN */
  double *parent, *small;
  int lazy; /* the children's children are leaves: scan the larger child as parent - small */
  int sBegin, sEnd;
  double sG, sH, lG, lH;
  /* JOB_GRADIENTS */
  const double *margin;
  const uint8_t *labels;
  double *gh, *py;
  /* common */
  int begin, end; /* JOB_ROOT rows */
  Split out[64][MAX_CHUNKS]; /* JOB_ROOTS: [class][chunk]; JOB_CHILDREN: [0 small | 1 large][chunk] */
  /* Claims: job number << 32 | back << 16 | front; chunks [front, back) are unclaimed. The caller
   * takes from the front, the helper from the back, so each keeps the same features (and their
   * histogram lines in its own cache) job after job, and takes the other's only when it is late.
   * One word, so a thread still leaving an earlier job can never claim in the next one. */
  atomic_ullong claim;
  atomic_int done;
  uint32_t number;
} Job;

typedef struct Grower {
  int N, F, K, maxDepth, maxNodes, threads, nchunks;
  double mcw, lambda, gamma, eta;
  uint8_t *bins;
  uint8_t *cols; /* the bins column-major: a partition reads one feature of a node's ascending rows */
  int32_t *nBins;
  uint8_t *vbins; /* validation rows, row-major, routed through every new tree */
  int nValid;
  double *vmargin; /* per round */
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
  /* Counters for the bench: jobs run, jobs offered to the helper, chunks, chunks the helper ran,
   * time the calling thread waited for the helper. */
  uint64_t statJobs, statOffered, statChunks, statWaitNs;
  atomic_ullong statHelperChunks;
  int closed;
} Grower;

/* ------------------------------------------------------------------------------------------ */

/* Entry (f, bin) of a histogram: blocks of 4 features, per bin the (g, h) of the 4 side by side. */
#define KG_ENTRY(g, f, bin) ((size_t)((f) >> 2) * (g)->BS + 8 * (size_t)(bin) + 2 * ((f) & 3))

/* kilo_gbdt_hist.c */
KG_INTERNAL void kg_hist_init(void);
KG_INTERNAL void kg_fill(const Grower *g, double *hist, const int32_t *rows, int begin, int end, const double *ghk, int b0, int b1);
KG_INTERNAL void kg_fill_roots(const Grower *g, double **roots, int b0, int b1);
KG_INTERNAL void kg_zero(const Grower *g, double *hist, int b0, int b1);
KG_INTERNAL void kg_subtract(const Grower *g, double *parent, const double *small, int b0, int b1);
KG_INTERNAL void kg_scan(const Grower *g, const double *hist, const double *sub, double G, double H, const uint8_t *on, int b0, int b1, Split *best);
KG_INTERNAL Split kg_combine(const Grower *g, const Split *parts);

/* kilo_gbdt_grow.c: grower_open returns NULL or why it failed (g is then closed). */
KG_INTERNAL const char *kg_grower_open(Grower *g, const uint8_t *bins, const int32_t *nBins, const uint8_t *vbins);
KG_INTERNAL void kg_grow_round(Grower *g, const int32_t *nUsed, int32_t *counts);
KG_INTERNAL void kg_grower_close(Grower *g);
/* Softmax of every row's margins -> gh (as tree.ts expects) and p of the label into py (softmax.ts). */
KG_INTERNAL void kg_gradients(Grower *g, const double *margin, const uint8_t *labels, double *gh, double *py);
KG_INTERNAL double kg_exp(double x);

#endif
