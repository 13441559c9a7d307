/*
 * Driver for test/models/gbdt-native.test.ts: boosts with native/kilo_gbdt_grow.c and
 * kilo_gbdt_hist.c directly (no Node: softmax pass, then the trees, each round), on one thread and
 * on two, and exits 0 only when both give the same trees, validation margins and probabilities. The test builds it with ThreadSanitizer, which fails the
 * run (exit 66) on any data race in the helper-thread protocol.
 * Usage: gbdt-threads <rows> <rounds>
 */
#include "kilo_gbdt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned seed;
static double rnd(void) {
  seed = seed * 1103515245u + 12345u;
  return (seed >> 8) / 16777216.0;
}

/* Grows `rounds` rounds of 3 class trees; appends every node and the validation margins to out. */
static int grow_all(int threads, int N, int rounds, double *out, size_t *n) {
  const int F = 13, K = 3, depth = 6, V = N / 4, M = (1 << (depth + 1)) - 1;
  uint8_t *bins = malloc((size_t)N * F), *vbins = malloc((size_t)V * F + 1), *on = malloc(K * F), *labels = malloc(N);
  int32_t nBins[13], *rows = malloc(sizeof(int32_t) * K * N), used[3], counts[3];
  double *gh = malloc(sizeof(double) * 2 * K * N), *py = malloc(sizeof(double) * N), *margin = calloc((size_t)N * K, sizeof(double)), *vmargin = calloc((size_t)V * K, sizeof(double));
  int32_t *oF = malloc(sizeof(int32_t) * K * M), *oB = malloc(sizeof(int32_t) * K * M), *oL = malloc(sizeof(int32_t) * K * M), *oR = malloc(sizeof(int32_t) * K * M);
  double *oV = malloc(sizeof(double) * K * M), *oG = malloc(sizeof(double) * K * M);
  Grower *g = calloc(1, sizeof(Grower));
  /* A binary feature, a constant one, the rest 256 bins. */
  for (int f = 0; f < F; f++) nBins[f] = f == 1 ? 2 : f == F - 1 ? 1 : 256;
  seed = 777;
  for (int r = 0; r < N; r++)
    for (int f = 0; f < F; f++) bins[(size_t)r * F + f] = (uint8_t)(rnd() * nBins[f]);
  memcpy(vbins, bins, (size_t)V * F);
  for (int r = 0; r < N; r++) labels[r] = (bins[(size_t)r * F] + bins[(size_t)r * F + 2]) % K;
  memset(on, 1, K * F);
  g->N = N, g->F = F, g->nValid = V, g->K = K, g->maxDepth = depth, g->mcw = 1, g->lambda = 1, g->gamma = 0, g->eta = 0.3, g->threads = threads;
  kg_hist_init();
  const char *why = kg_grower_open(g, bins, nBins, vbins);
  if (why) {
    fprintf(stderr, "%s\n", why);
    return 1;
  }
  for (int round = 0; round < rounds; round++) {
    /* The softmax pass is a job too (8 row chunks, against 4 feature chunks for tree jobs). */
    kg_gradients(g, margin, labels, gh, py);
    /* Every third round class 1 grows on half the rows: the per-class root path. */
    for (int k = 0; k < K; k++) {
      used[k] = round % 3 == 2 && k == 1 ? N / 2 : N;
      for (int r = 0; r < N; r++) rows[(size_t)k * N + r] = r;
    }
    g->gh = gh, g->rows = rows, g->featOn = on, g->margin = margin, g->vmargin = vmargin;
    g->oF = oF, g->oB = oB, g->oL = oL, g->oR = oR, g->oV = oV, g->oG = oG;
    kg_grow_round(g, used, counts);
    for (int k = 0; k < K; k++)
      for (int i = 0; i < counts[k]; i++) {
        out[(*n)++] = oF[k * M + i] * 1000.0 + oB[k * M + i];
        out[(*n)++] = oV[k * M + i];
        out[(*n)++] = oG[k * M + i];
      }
  }
  for (int i = 0; i < V * K; i++) out[(*n)++] = vmargin[i];
  for (int r = 0; r < N; r++) out[(*n)++] = py[r];
  printf("threads %d: %llu jobs, %llu offered to the helper, it ran %llu of %llu chunks\n", g->threads, (unsigned long long)g->statJobs,
         (unsigned long long)g->statOffered, (unsigned long long)atomic_load(&g->statHelperChunks), (unsigned long long)g->statChunks);
  kg_grower_close(g);
  free(g), free(bins), free(vbins), free(on), free(labels), free(rows), free(gh), free(py), free(margin), free(vmargin);
  free(oF), free(oB), free(oL), free(oR), free(oV), free(oG);
  return 0;
}

int main(int argc, char **argv) {
  const int N = argc > 1 ? atoi(argv[1]) : 2000, rounds = argc > 2 ? atoi(argv[2]) : 10;
  const size_t cap = (size_t)rounds * 3 * 127 * 3 + (size_t)N * 4;
  double *a = malloc(sizeof(double) * cap), *b = malloc(sizeof(double) * cap);
  size_t na = 0, nb = 0;
  if (N < 8 || grow_all(1, N, rounds, a, &na) || grow_all(2, N, rounds, b, &nb)) return 1;
  if (na != nb || memcmp(a, b, sizeof(double) * na)) {
    printf("1 and 2 threads differ\n");
    return 2;
  }
  printf("1 and 2 threads identical (%zu values)\n", na);
  free(a), free(b);
  return 0;
}
