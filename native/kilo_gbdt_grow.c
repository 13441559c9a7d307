/*
 * kilo's native tree grower: threads and tree growth (depth-first, preorder node ids, as tree.ts
 * grow). See kilo_gbdt.h.
 *
 * Threads: a node's work (zero + fill the smaller child's histogram, subtract it from the parent's,
 * scan both children) is cut into chunks of whole features. Any thread may claim any chunk; a
 * chunk's result depends only on its features, and chunk results are combined in feature order, so
 * who computed what never changes the tree. The calling thread claims whatever the helper has not
 * started, and a helper that keeps it waiting (descheduled on a busy machine) is benched for a
 * while, so two threads are never much slower than one.
 */
#include "kilo_gbdt.h"
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void gradient_rows(const Grower *g, const Job *j, int r0, int r1);

static void run_chunk(Grower *g, int c) {
  Job *j = &g->job;
  if (j->kind == JOB_GRADIENTS) {
    gradient_rows(g, j, (int)((long)g->N * c / j->nchunks), (int)((long)g->N * (c + 1) / j->nchunks));
    return;
  }
  const int f0 = g->chunkB[c], f1 = g->chunkB[c + 1];
  if (j->kind == JOB_ROOTS) {
    for (int k = 0; k < g->K; k++) kg_zero(g, j->roots[k], f0, f1);
    kg_fill_roots(g, j->roots, f0, f1);
    for (int k = 0; k < g->K; k++) kg_scan(g, j->roots[k], NULL, j->rootG[k], j->rootH[k], g->featOn + (size_t)k * g->F, f0, f1, &j->out[k][c]);
  } else if (j->kind == JOB_ROOT) {
    kg_zero(g, j->roots[0], f0, f1);
    kg_fill(g, j->roots[0], g->rows, j->begin, j->end, g->ghk, f0, f1);
    kg_scan(g, j->roots[0], NULL, j->rootG[0], j->rootH[0], g->onk, f0, f1, &j->out[0][c]);
  } else {
    kg_zero(g, j->small, f0, f1);
    kg_fill(g, j->small, g->rows, j->sBegin, j->sEnd, g->ghk, f0, f1);
    kg_scan(g, j->small, NULL, j->sG, j->sH, g->onk, f0, f1, &j->out[0][c]);
    if (j->lazy) {
      kg_scan(g, j->parent, j->small, j->lG, j->lH, g->onk, f0, f1, &j->out[1][c]);
    } else {
      kg_subtract(g, j->parent, j->small, f0, f1);
      kg_scan(g, j->parent, NULL, j->lG, j->lH, g->onk, f0, f1, &j->out[1][c]);
    }
  }
}

static void claim_chunks(Grower *g, int isHelper) {
  Job *j = &g->job;
  unsigned long long t = atomic_load(&j->claim);
  for (;;) {
    const int front = (int)(t & 0xffff), back = (int)((t >> 16) & 0xffff);
    if (front >= back) return;
    const int c = isHelper ? back - 1 : front;
    /* On failure t is reloaded: the other thread claimed a chunk, or a new job was published. */
    if (!atomic_compare_exchange_weak(&j->claim, &t, isHelper ? t - (1ull << 16) : t + 1)) continue;
    run_chunk(g, c);
    if (isHelper) atomic_fetch_add_explicit(&g->statHelperChunks, 1, memory_order_relaxed);
    atomic_fetch_add(&j->done, 1);
    t = atomic_load(&j->claim);
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
  /* The job's fields are written; every chunk of the previous job is done (run_job waited), so
   * resetting done cannot wipe a completion. Publishing the claim word hands the job out. */
  atomic_store(&j->done, 0);
  atomic_store(&j->claim, (unsigned long long)++j->number << 32 | (unsigned long long)j->nchunks << 16);
  const int offer = g->hasThread && g->benched == 0;
  if (g->benched > 0) g->benched--;
  g->statJobs++;
  g->statOffered += offer;
  g->statChunks += j->nchunks;
  if (offer) {
    atomic_fetch_add(&g->seq, 1);
    if (atomic_load(&g->sleeping)) {
      pthread_mutex_lock(&g->mu);
      pthread_cond_signal(&g->cv);
      pthread_mutex_unlock(&g->mu);
    }
  }
  claim_chunks(g, 0);
  if (atomic_load(&j->done) == j->nchunks) return;
  const uint64_t t0 = now_ns();
  for (int spins = 0; atomic_load(&j->done) < j->nchunks; spins++) {
    if (spins < 2048) cpu_relax();
    else sched_yield();
  }
  const uint64_t waited = now_ns() - t0;
  g->statWaitNs += waited;
  if (waited > LATE_NS) {
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
    claim_chunks(g, 1);
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
  const uint8_t *restrict col = g->cols + (size_t)f * g->N;
  int w = begin, t = 0;
  for (int i = begin; i < end; i++) {
    const int r = rows[i];
    const int left = col[r] <= splitBin;
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
    j->nchunks = g->nchunks;
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
    const Split ss = kg_combine(g, j->out[0]), bs = kg_combine(g, j->out[1]);
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

/* Adds the tree just grown for class k (g->o*) to every validation row's margin. */
static void route_valid(Grower *g, int k) {
  const int F = g->F, K = g->K;
  for (int r = 0; r < g->nValid; r++) {
    const uint8_t *b = g->vbins + (size_t)r * F;
    int n = 0;
    while (g->oF[n] >= 0) n = b[g->oF[n]] <= g->oB[n] ? g->oL[n] : g->oR[n];
    g->vmargin[(size_t)r * K + k] += g->oV[n];
  }
}

void kg_grow_round(Grower *g, const int32_t *nUsed, int32_t *counts) {
  const int K = g->K, N = g->N, M = g->maxNodes;
  int shared = K > 1;
  for (int k = 0; k < K; k++)
    if (nUsed[k] != N) shared = 0;
  Job *j = &g->job;
  if (shared) {
    j->kind = JOB_ROOTS;
    j->nchunks = g->nchunks;
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
      splits[k] = kg_combine(g, j->out[k]);
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
      j->nchunks = g->nchunks;
      j->roots[0] = h;
      j->rootG[0] = G;
      j->rootH[0] = H;
      j->begin = begin;
      j->end = end;
      run_job(g);
      roots[k] = h;
      splits[k] = kg_combine(g, j->out[0]);
      rootG[k] = G;
      rootH[k] = H;
    }
    g->nodeCount = 0;
    grow(g, roots[k], splits[k], begin, end, rootG[k], rootH[k], 0);
    counts[k] = g->nodeCount;
    if (g->vmargin) route_valid(g, k);
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

void kg_grower_close(Grower *g) {
  if (g->closed) return;
  g->closed = 1;
  stop_thread(g);
  for (int i = 0; g->pool && i < g->poolSize; i++) free(g->pool[i]);
  free(g->pool);
  free(g->freeList);
  free(g->bins);
  free(g->cols);
  free(g->vbins);
  free(g->nBins);
  free(g->tmp);
  g->pool = g->freeList = NULL;
  g->bins = g->cols = g->vbins = NULL;
  g->nBins = g->tmp = NULL;
  pthread_mutex_destroy(&g->mu);
  pthread_cond_destroy(&g->cv);
}

/* Copies the training set (the JS buffers may move or be reused), allocates the histogram pool,
 * cuts the features into chunks and starts the helper thread. g's sizes and parameters are set. */
const char *kg_grower_open(Grower *g, const uint8_t *bins, const int32_t *nBins, const uint8_t *vbins) {
  const int N = g->N, F = g->F, V = g->nValid;
  g->maxNodes = (1 << (g->maxDepth + 1)) - 1;
  if (g->threads > 2) g->threads = 2;
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  int widest = 1;
  for (int f = 0; f < F; f++) {
    if (nBins[f] < 1 || nBins[f] > 256) {
      kg_grower_close(g);
      return "createGrower: nBins must be in [1, 256]";
    }
    if (nBins[f] > widest) widest = nBins[f];
  }
  g->bins = malloc((size_t)N * F);
  g->cols = malloc((size_t)N * F);
  g->vbins = malloc((size_t)V * F + 1);
  g->nBins = malloc(sizeof(int32_t) * F);
  g->tmp = malloc(sizeof(int32_t) * N);
  g->BS = 8 * (size_t)widest;
  g->blocks = (F + 3) / 4;
  g->histLen = (size_t)g->blocks * g->BS;
  /* Roots of all classes, one pending sibling per level, one child being filled. */
  g->poolSize = g->K + g->maxDepth + 2;
  g->pool = calloc(g->poolSize, sizeof(double *));
  g->freeList = calloc(g->poolSize, sizeof(double *));
  int ok = g->bins && g->cols && g->vbins && g->nBins && g->tmp && g->pool && g->freeList;
  for (int i = 0; ok && i < g->poolSize; i++) {
    g->pool[i] = aligned_alloc(64, ((sizeof(double) * g->histLen + 63) / 64) * 64);
    ok = g->pool[i] != NULL;
    if (ok) g->freeList[g->nFree++] = g->pool[i];
  }
  if (!ok) {
    kg_grower_close(g);
    return "createGrower: out of memory";
  }
  memcpy(g->bins, bins, (size_t)N * F);
  for (int r = 0; r < N; r++)
    for (int f = 0; f < F; f++) g->cols[(size_t)f * N + r] = bins[(size_t)r * F + f];
  memcpy(g->vbins, vbins, (size_t)V * F);
  memcpy(g->nBins, nBins, sizeof(int32_t) * F);
  /* Chunks of whole feature blocks with about equal bin counts; a few per thread so a late
   * thread costs little. One chunk when single-threaded: no split work at all. */
  int want = g->threads == 1 ? 1 : 4;
  if (want > g->blocks) want = g->blocks;
  long total = 0;
  for (int f = 0; f < F; f++) total += nBins[f];
  g->chunkB[0] = 0;
  int c = 1;
  long acc = 0;
  for (int b = 0; b < g->blocks && c < want; b++) {
    for (int f = 4 * b; f < 4 * b + 4 && f < F; f++) acc += nBins[f];
    if (acc * want >= total * c && g->blocks - (b + 1) >= want - c) g->chunkB[c++] = b + 1;
  }
  g->nchunks = c;
  g->chunkB[c] = g->blocks;
  if (g->threads > 1) {
    if (pthread_create(&g->thread, NULL, helper, g) == 0) g->hasThread = 1;
    else g->threads = 1;
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Gradients (src/models/gbdt/softmax.ts, the same operations)                                 */
/* ------------------------------------------------------------------------------------------ */

/* e^x by the fdlibm algorithm, as softmax.ts exp: plain IEEE operations, so both give the same bits. */
double kg_exp(double x) {
  static const double LN2_HI = 6.9314718036912381649e-1, LN2_LO = 1.90821492927058770002e-10, INV_LN2 = 1.442695040888963387,
                      HALF_LN2 = 0.34657359027997264, THREE_HALF_LN2 = 1.0397207708399179, P1 = 1.66666666666666019037e-1,
                      P2 = -2.77777777770155933842e-3, P3 = 6.61375632143793436117e-5, P4 = -1.65339022054652515390e-6,
                      P5 = 4.13813679705723846039e-8, TWO_M1000 = 9.3326361850321887899e-302, OVERFLOW = 7.09782712893383973096e2,
                      UNDERFLOW = -7.45133219101941108420e2, E = 2.718281828459045;
  if (x != x) return x;
  if (x > OVERFLOW) return __builtin_inf();
  if (x < UNDERFLOW) return 0;
  if (x == 1) return E;
  const double ax = x < 0 ? -x : x;
  double hi = 0, lo = 0, r;
  int k = 0;
  if (ax > HALF_LN2) {
    k = ax < THREE_HALF_LN2 ? (x < 0 ? -1 : 1) : (int)(INV_LN2 * x + (x < 0 ? -0.5 : 0.5));
    hi = x - k * LN2_HI;
    lo = k * LN2_LO;
    r = hi - lo;
  } else if (ax < 3.725290298461914e-9) {
    return 1 + x;
  } else {
    r = x;
  }
  const double t = r * r;
  const double c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1 - ((r * c) / (c - 2) - r);
  union {
    double d;
    uint64_t u;
  } y = {1 - (lo - (r * c) / (2 - c) - hi)};
  if (k >= -1021) {
    y.u += (uint64_t)(int64_t)k << 52;
    return y.d;
  }
  y.u += (uint64_t)(int64_t)(k + 1000) << 52;
  return y.d * TWO_M1000;
}

static void gradient_rows(const Grower *g, const Job *j, int r0, int r1) {
  const int K = g->K;
  const size_t N = g->N;
  double e[64];
  for (int r = r0; r < r1; r++) {
    const double *m = j->margin + (size_t)r * K;
    double max = -__builtin_inf(), s = 0;
    for (int k = 0; k < K; k++)
      if (m[k] > max) max = m[k];
    for (int k = 0; k < K; k++) {
      e[k] = kg_exp(m[k] - max);
      s += e[k];
    }
    const int y = j->labels[r];
    for (int k = 0; k < K; k++) {
      const double p = e[k] / s, h = 2 * p * (1 - p);
      double *o = j->gh + 2 * ((size_t)k * N + r);
      o[0] = p - (y == k ? 1 : 0);
      o[1] = h > 1e-16 ? h : 1e-16;
      if (k == y) j->py[r] = p;
    }
  }
}

void kg_gradients(Grower *g, const double *margin, const uint8_t *labels, double *gh, double *py) {
  Job *j = &g->job;
  j->kind = JOB_GRADIENTS;
  /* Rows are independent: any split gives the same bits. */
  j->nchunks = g->hasThread ? 8 : 1;
  j->margin = margin;
  j->labels = labels;
  j->gh = gh;
  j->py = py;
  run_job(g);
}
