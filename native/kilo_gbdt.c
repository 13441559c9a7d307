/*
 * kilo's native tree grower, the Node-API module: the histogram GBDT's tree building
 * (src/models/gbdt/tree.ts, TsTreeGrower) in C, optionally on two threads, growing the same trees
 * bit for bit. src/models/gbdt/native.ts is the caller; kilo_gbdt.h says how the parts fit.
 */
#include "kilo_gbdt.h"
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>

/* Bumped whenever an export's arguments or meaning change: src/models/gbdt/native.ts refuses another
 * value (a stale build after `git pull` without `npm ci`) and uses the TypeScript grower instead. */
#ifndef KILO_GBDT_ABI
#define KILO_GBDT_ABI 1
#endif

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  kg_grower_close(data);
  free(data);
}

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

/* createGrower(bins u8[N*F], N, F, nBins i32[F], validBins u8[V*F], V, K, maxDepth, minChildWeight, lambda, gamma, eta, threads) */
static napi_value CreateGrower(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 13) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "createGrower expects 13 arguments");
    return NULL;
  }
  int N, F, V, K, maxDepth, threads;
  double mcw, lambda, gamma, eta;
  if (!get_int(env, argv[1], &N, "nRows") || !get_int(env, argv[2], &F, "nCols") || !get_int(env, argv[5], &V, "nValid") ||
      !get_int(env, argv[6], &K, "nClasses") || !get_int(env, argv[7], &maxDepth, "maxDepth") || !get_num(env, argv[8], &mcw, "minChildWeight") ||
      !get_num(env, argv[9], &lambda, "lambda") || !get_num(env, argv[10], &gamma, "gamma") || !get_num(env, argv[11], &eta, "eta") ||
      !get_int(env, argv[12], &threads, "threads"))
    return NULL;
  if (N < 1 || F < 1 || V < 0 || K < 1 || K > 64 || maxDepth < 1 || maxDepth > 16 || threads < 1) {
    napi_throw_range_error(env, "KILO_NATIVE_ARG", "createGrower: need nRows, nCols >= 1, nValid >= 0, 1 <= nClasses <= 64, 1 <= maxDepth <= 16, threads >= 1");
    return NULL;
  }
  void *bins, *nBins, *vbins;
  if (!get_arr(env, argv[0], napi_uint8_array, (size_t)N * F, &bins, "bins") || !get_arr(env, argv[3], napi_int32_array, F, &nBins, "nBins") ||
      !get_arr(env, argv[4], napi_uint8_array, (size_t)V * F, &vbins, "validBins"))
    return NULL;
  Grower *g = calloc(1, sizeof(Grower));
  if (!g) {
    napi_throw_error(env, "KILO_NATIVE_MEMORY", "createGrower: out of memory");
    return NULL;
  }
  g->N = N;
  g->F = F;
  g->nValid = V;
  g->K = K;
  g->maxDepth = maxDepth;
  g->mcw = mcw;
  g->lambda = lambda;
  g->gamma = gamma;
  g->eta = eta;
  g->threads = threads;
  const char *why = kg_grower_open(g, bins, nBins, vbins);
  if (why) {
    free(g);
    napi_throw_range_error(env, "KILO_NATIVE_ARG", why);
    return NULL;
  }
  napi_value ext;
  if (napi_create_external(env, g, finalize, NULL, &ext) != napi_ok) {
    kg_grower_close(g);
    free(g);
    napi_throw_error(env, "KILO_NATIVE", "createGrower: napi_create_external failed");
    return NULL;
  }
  return ext;
}

/* growRound(grower, gh f64[K*N*2], rows i32[K*N], nUsed i32[K], featOn u8[K*F], margin f64[N*K],
 *           validMargin f64[V*K] (empty: not routed), feature i32[K*M], bin i32[K*M], left i32[K*M],
 *           right i32[K*M], value f64[K*M], gain f64[K*M], counts i32[K]) with M = 2^(maxDepth+1) - 1 */
static napi_value GrowRound(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 14) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "growRound expects 14 arguments");
    return NULL;
  }
  Grower *g = get_grower(env, argv[0]);
  if (!g) return NULL;
  const size_t N = g->N, K = g->K, F = g->F, M = g->maxNodes;
  void *gh, *rows, *nUsed, *featOn, *margin, *vmargin, *oF, *oB, *oL, *oR, *oV, *oG, *counts;
  if (!get_arr(env, argv[1], napi_float64_array, K * N * 2, &gh, "gh") || !get_arr(env, argv[2], napi_int32_array, K * N, &rows, "rows") ||
      !get_arr(env, argv[3], napi_int32_array, K, &nUsed, "nUsed") || !get_arr(env, argv[4], napi_uint8_array, K * F, &featOn, "featOn") ||
      !get_arr(env, argv[5], napi_float64_array, N * K, &margin, "margin") || !get_arr(env, argv[6], napi_float64_array, 0, &vmargin, "validMargin") ||
      !get_arr(env, argv[7], napi_int32_array, K * M, &oF, "feature") || !get_arr(env, argv[8], napi_int32_array, K * M, &oB, "bin") ||
      !get_arr(env, argv[9], napi_int32_array, K * M, &oL, "left") || !get_arr(env, argv[10], napi_int32_array, K * M, &oR, "right") ||
      !get_arr(env, argv[11], napi_float64_array, K * M, &oV, "value") || !get_arr(env, argv[12], napi_float64_array, K * M, &oG, "gain") ||
      !get_arr(env, argv[13], napi_int32_array, K, &counts, "counts"))
    return NULL;
  size_t vlen = 0;
  napi_get_typedarray_info(env, argv[6], NULL, &vlen, NULL, NULL, NULL);
  if (vlen != 0 && vlen < (size_t)g->nValid * K) {
    char msg[160];
    snprintf(msg, sizeof msg, "validMargin has %zu elements, needs %zu (or 0: not routed)", vlen, (size_t)g->nValid * K);
    napi_throw_range_error(env, "KILO_NATIVE_SIZE", msg);
    return NULL;
  }
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
  g->vmargin = vlen && g->nValid ? vmargin : NULL;
  g->oF = oF;
  g->oB = oB;
  g->oL = oL;
  g->oR = oR;
  g->oV = oV;
  g->oG = oG;
  kg_grow_round(g, used, counts);
  g->gh = NULL;
  g->rows = NULL;
  g->margin = g->vmargin = NULL;
  return NULL;
}

/* gradients(grower, margin f64[N*K], labels u8[N], gh f64[K*N*2], py f64[N]): softmax.ts
 * softmaxGradients (the same bits) on the grower's threads. */
static napi_value Gradients(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "gradients expects 5 arguments");
    return NULL;
  }
  Grower *g = get_grower(env, argv[0]);
  if (!g) return NULL;
  const size_t N = g->N, K = g->K;
  void *margin, *labels, *gh, *py;
  if (!get_arr(env, argv[1], napi_float64_array, N * K, &margin, "margin") || !get_arr(env, argv[2], napi_uint8_array, N, &labels, "labels") ||
      !get_arr(env, argv[3], napi_float64_array, K * N * 2, &gh, "gh") || !get_arr(env, argv[4], napi_float64_array, N, &py, "py"))
    return NULL;
  const uint8_t *y = labels;
  for (size_t r = 0; r < N; r++) {
    if (y[r] >= K) {
      napi_throw_range_error(env, "KILO_NATIVE_ARG", "gradients: a label is not below nClasses");
      return NULL;
    }
  }
  kg_gradients(g, margin, labels, gh, py);
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
  kg_grower_close(p);
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

/* growerStats(grower) -> { jobs, offered, chunks, helperChunks, waitMs }: how the helper thread took part. */
static napi_value GrowerStats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Grower *g = argc < 1 ? NULL : get_grower(env, argv[0]);
  if (!g) return NULL;
  CHECK(napi_create_object(env, &out));
  const double vals[5] = {(double)g->statJobs, (double)g->statOffered, (double)g->statChunks, (double)atomic_load(&g->statHelperChunks),
                          g->statWaitNs / 1e6};
  const char *names[5] = {"jobs", "offered", "chunks", "helperChunks", "waitMs"};
  for (int i = 0; i < 5; i++) {
    CHECK(napi_create_double(env, vals[i], &v));
    CHECK(napi_set_named_property(env, out, names[i], v));
  }
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value v;
  kg_hist_init();
  if (napi_create_int32(env, KILO_GBDT_ABI, &v) != napi_ok || napi_set_named_property(env, exports, "abi", v) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"createGrower", NULL, CreateGrower, NULL, NULL, NULL, napi_default, NULL},
      {"growRound", NULL, GrowRound, NULL, NULL, NULL, napi_default, NULL},
      {"closeGrower", NULL, CloseGrower, NULL, NULL, NULL, napi_default, NULL},
      {"growerThreads", NULL, GrowerThreads, NULL, NULL, NULL, napi_default, NULL},
      {"growerStats", NULL, GrowerStats, NULL, NULL, NULL, napi_default, NULL},
      {"gradients", NULL, Gradients, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 6, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
