/*
 * kilo's native recurrent kernels (Node-API addon): whole-sequence GRU/LSTM forward and backward
 * (backprop through time) for a first layer on data input that returns its last state, and for the
 * whole classifier kilo trains ([window x features] -> GRU/LSTM -> Dense(3, softmax)): one call per
 * batch does forward, class-weighted cross-entropy, backward and the Adam update over one flat
 * parameter array in model.getWeights() order (src/models/rnn/native.ts owns that array and writes
 * it back into the tfjs model). Inference (the recurrent layer alone, or the whole classifier) runs
 * the same forward code without keeping activations.
 *
 * Why: on the wasm backend each tfjs op costs tens of microseconds and XNNPACK's 128-bit SIMD tops
 * out near 25 GFLOP/s here; this file does the arithmetic in a few AVX2/AVX-512 loops with no
 * per-op dispatch and no copies between JS and wasm memory. Same math as the tfjs path
 * (src/models/rnn/gru-bptt.ts, lstm-bptt.ts, train.ts's loss and tfjs's Adam): checked in
 * test/native/rnn-native.test.ts on both instruction sets.
 *
 * The arithmetic lives in rnn_kernels.h, compiled twice below (AVX2+FMA, AVX-512F); Init picks
 * the widest the CPU has (setIsa switches, for the tests and the bench). Built by native/build.mjs.
 */
#include <node_api.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>
#include <x86intrin.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* Bumped whenever an export's arguments or meaning change: src/native/rnn.ts refuses another value
 * (a stale build after `git pull` without `npm ci`) and falls back to the tfjs path, saying why. */
#ifndef KILO_RNN_ABI
#define KILO_RNN_ABI 2
#endif

/* Classes of the classifier head (src/models/rnn/model.ts RNN_CLASSES). */
#define KILO_CLASSES 3
/* Batch rows per forward block: a multiple of both micro-tile heights (6 and 12). */
#define RB 24
/* GEMM: K slice length, and how a C tile starts (its old value, zero, or a bias row). */
#define KC 256
enum { INIT_ACC = 0, INIT_ZERO = 1, INIT_BIAS = 2 };

/* Offsets (in floats) into the training workspace, the inference scratch and the flat parameters. */
typedef struct {
  int cell, B, T, F, U, G, C;
  size_t hs, cs, S, scratch, dy, total;               /* training workspace */
  size_t infer_states, infer_total, predict_total;    /* inference scratch */
  size_t p_kernel, p_recurrent, p_bias, p_rbias, p_dense, p_dense_bias, p_total; /* parameters */
} Layout;

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

static void layout(Layout *L, int cell, int B, int T, int F, int U) {
  const size_t b = (size_t)B, t = (size_t)T, u = (size_t)U, g = (size_t)(cell ? 4 : 3) * U;
  L->cell = cell; L->B = B; L->T = T; L->F = F; L->U = U; L->G = (int)g; L->C = KILO_CLASSES;
  L->hs = 0;
  L->cs = L->hs + (t + 1) * b * u;
  L->S = L->cs + (cell ? (t + 1) * b * u : 0);
  L->scratch = L->S + t * b * (cell ? 5 : 4) * u;
  const size_t fwd = 2 * (size_t)RB * g + g;
  const size_t bwd = g * u + b * g + (cell ? 2 * b * u : b * g + b * u);
  L->dy = L->scratch + max_sz(fwd, bwd);
  L->total = L->dy + b * u;
  L->infer_states = fwd;
  L->infer_total = fwd + 4 * (size_t)RB * u;
  L->predict_total = L->infer_total + b * u;
  L->p_kernel = 0;
  L->p_recurrent = (size_t)F * g;
  L->p_bias = L->p_recurrent + u * g;
  L->p_rbias = L->p_bias + g;
  L->p_dense = L->p_rbias + (cell ? 0 : u);
  L->p_dense_bias = L->p_dense + u * KILO_CLASSES;
  L->p_total = L->p_dense_bias + KILO_CLASSES;
}

typedef struct {
  const char *name;
  void (*forward_train)(const Layout *, const float *x, const float *W, const float *Uw, const float *bias, const float *rb, float *ws,
                        float *out);
  void (*backward)(const Layout *, const float *x, const float *dy, const float *Uw, float *ws, float *gW, float *gU, float *gb, float *grb);
  void (*infer)(const Layout *, const float *x, const float *W, const float *Uw, const float *bias, const float *rb, float *out,
                float *scratch);
  double (*train_step)(const Layout *, const float *x, const int32_t *y, const float *w, float *params, float *grads, float *m, float *v,
                       float *opt, float *ws);
  void (*predict)(const Layout *, const float *x, const float *params, float *probs, float *scratch);
} Kernels;

/* Where a training step's time goes, in TSC ticks per phase for this thread (profile() reads and
 * resets them): a handful of rdtsc per step and row block, well under 1% of a batch. */
enum { PH_FWD_X, PH_FWD_H, PH_FWD_GATES, PH_BWD_GATES, PH_BWD_DH, PH_BWD_GU, PH_BWD_GW, PH_HEAD, PH_ADAM, PH_N };
static const char *const phase_names[PH_N] = {"forward x.W", "forward h.U", "forward gates", "backward gates", "backward dh.U^T",
                                              "backward gU += h^T.dH", "backward gW += x^T.dA", "dense head + loss", "adam"};
static _Thread_local uint64_t prof_ticks[PH_N];
#define PROF_START(t) uint64_t t = __rdtsc()
#define PROF_ADD(ph, t)                  \
  do {                                   \
    const uint64_t t1_ = __rdtsc();      \
    prof_ticks[ph] += t1_ - (t);         \
    (t) = t1_;                           \
  } while (0)

/* AVX2 masked loads for a units tail: lanes [0, n) of kilo_tail_mask + 8 - n are set. */
static const int32_t kilo_tail_mask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define KW 8
#define KSUF avx2
#define KNAME "avx2+fma"
#include "rnn_kernels.h"
#undef KW
#undef KSUF
#undef KNAME
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#define KW 16
#define KSUF avx512
#define KNAME "avx512f"
#include "rnn_kernels.h"
#undef KW
#undef KSUF
#undef KNAME
#pragma GCC pop_options

/* The kernels in use, process-wide: set by the first Init (every worker thread runs Init) and by setIsa. */
static const Kernels *kern = NULL;

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

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len, const char *what, const char *type) {
  napi_typedarray_type type_;
  size_t n, off;
  void *p;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type_, &n, &p, &ab, &off) != napi_ok || type_ != want) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a%s %s", what, type[0] == 'I' ? "n" : "", type);
    napi_throw_type_error(env, "KILO_NATIVE_ARG", msg);
    return 0;
  }
  *data = p;
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
    snprintf(msg, sizeof msg, "%s has %zu values, needs %zu", what, have, want);
    napi_throw_range_error(env, "KILO_NATIVE_SIZE", msg);
    return 0;
  }
  return 1;
}

/* Reads `n` arguments of export `what` and the layout from argv[0..4] = cell (0 gru | 1 lstm), B, T, F, U. */
static int get_call(napi_env env, napi_callback_info info, napi_value *argv, size_t n, const char *what, Layout *L) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s expects %zu arguments", what, n);
    napi_throw_type_error(env, "KILO_NATIVE_ARG", msg);
    return 0;
  }
  int cell, B, T, F, U;
  if (napi_get_value_int32(env, argv[0], &cell) != napi_ok || (cell != 0 && cell != 1)) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "cell must be 0 (gru) or 1 (lstm)");
    return 0;
  }
  if (!get_int(env, argv[1], &B, "batch") || !get_int(env, argv[2], &T, "steps") || !get_int(env, argv[3], &F, "features") ||
      !get_int(env, argv[4], &U, "units"))
    return 0;
  layout(L, cell, B, T, F, U);
  return 1;
}

/* A typed-array argument, its name for errors and the values it must hold (Float32Array unless i32). */
typedef struct {
  const char *name;
  size_t want;
  void *p;
  int i32;
} Buf;

/* Reads argv[i] into bufs[i] for i < n, checking type and size; throws and returns 0 when wrong. */
static int get_bufs(napi_env env, napi_value *argv, Buf *bufs, int n) {
  for (int i = 0; i < n; i++) {
    size_t len;
    const int ok = bufs[i].i32 ? get_typed(env, argv[i], napi_int32_array, &bufs[i].p, &len, bufs[i].name, "Int32Array")
                               : get_typed(env, argv[i], napi_float32_array, &bufs[i].p, &len, bufs[i].name, "Float32Array");
    if (!ok || !need(env, len, bufs[i].want, bufs[i].name)) return 0;
  }
  return 1;
}
#define F32(b, i) ((float *)(b)[i].p)

/* workspaceFloats(cell, B, T, F, U) -> floats of the training workspace (forward/backward/trainStep) */
static napi_value WorkspaceFloats(napi_env env, napi_callback_info info) {
  napi_value argv[5], out;
  Layout L;
  if (!get_call(env, info, argv, 5, "workspaceFloats", &L)) return NULL;
  CHECK(napi_create_double(env, (double)L.total, &out));
  return out;
}

/* paramFloats(cell, B, T, F, U) -> length of the flat parameter array trainStep/predict take */
static napi_value ParamFloats(napi_env env, napi_callback_info info) {
  napi_value argv[5], out;
  Layout L;
  if (!get_call(env, info, argv, 5, "paramFloats", &L)) return NULL;
  CHECK(napi_create_double(env, (double)L.p_total, &out));
  return out;
}

/* forward(cell, B, T, F, U, x, kernel, recurrent, bias, recurrentBias (gru; empty for lstm), ws, out):
 * training forward; keeps what backward needs in ws. */
static napi_value Forward(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  Layout L;
  if (!get_call(env, info, argv, 12, "forward", &L)) return NULL;
  Buf b[7] = {
      {"x", (size_t)L.B * L.T * L.F},   {"kernel", (size_t)L.F * L.G},        {"recurrent kernel", (size_t)L.U * L.G},
      {"bias", (size_t)L.G},            {"recurrent bias", L.cell ? 0 : (size_t)L.U},
      {"workspace", L.total},           {"out", (size_t)L.B * L.U},
  };
  if (!get_bufs(env, argv + 5, b, 7)) return NULL;
  kern->forward_train(&L, F32(b, 0), F32(b, 1), F32(b, 2), F32(b, 3), L.cell ? NULL : F32(b, 4), F32(b, 5), F32(b, 6));
  return NULL;
}

/* backward(cell, B, T, F, U, x, dy, recurrent, ws, gKernel, gRecurrent, gBias, gRecurrentBias (gru; empty for lstm)):
 * after forward on the same x and ws; gradients are overwritten. */
static napi_value Backward(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  Layout L;
  if (!get_call(env, info, argv, 13, "backward", &L)) return NULL;
  Buf b[8] = {
      {"x", (size_t)L.B * L.T * L.F},            {"dy", (size_t)L.B * L.U},                     {"recurrent kernel", (size_t)L.U * L.G},
      {"workspace", L.total},                    {"kernel gradient", (size_t)L.F * L.G},        {"recurrent gradient", (size_t)L.U * L.G},
      {"bias gradient", (size_t)L.G},            {"recurrent bias gradient", L.cell ? 0 : (size_t)L.U},
  };
  if (!get_bufs(env, argv + 5, b, 8)) return NULL;
  kern->backward(&L, F32(b, 0), F32(b, 1), F32(b, 2), F32(b, 3), F32(b, 4), F32(b, 5), F32(b, 6), L.cell ? NULL : F32(b, 7));
  return NULL;
}

static float *scratch_alloc(napi_env env, size_t floats) {
  float *p = (float *)malloc(sizeof(float) * (floats ? floats : 1));
  if (!p) napi_throw_error(env, "KILO_NATIVE_OOM", "native scratch allocation failed");
  return p;
}

/* infer(cell, B, T, F, U, x, kernel, recurrent, bias, recurrentBias, out): last state, nothing kept. */
static napi_value Infer(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  Layout L;
  if (!get_call(env, info, argv, 11, "infer", &L)) return NULL;
  Buf b[6] = {
      {"x", (size_t)L.B * L.T * L.F}, {"kernel", (size_t)L.F * L.G}, {"recurrent kernel", (size_t)L.U * L.G},
      {"bias", (size_t)L.G},          {"recurrent bias", L.cell ? 0 : (size_t)L.U}, {"out", (size_t)L.B * L.U},
  };
  if (!get_bufs(env, argv + 5, b, 6)) return NULL;
  float *scratch = scratch_alloc(env, L.infer_total);
  if (!scratch) return NULL;
  kern->infer(&L, F32(b, 0), F32(b, 1), F32(b, 2), F32(b, 3), L.cell ? NULL : F32(b, 4), F32(b, 5), scratch);
  free(scratch);
  return NULL;
}

/* trainStep(cell, B, T, F, U, x, y (Int32Array), w, params, grads, m, v, opt, ws) -> weighted loss sum.
 * opt = [lr, beta1, beta2, epsilon, 1 - beta1, 1 - beta2, accBeta1, accBeta2]; the last two advance. */
static napi_value TrainStep(napi_env env, napi_callback_info info) {
  napi_value argv[14], out;
  Layout L;
  if (!get_call(env, info, argv, 14, "trainStep", &L)) return NULL;
  Buf b[9] = {
      {"x", (size_t)L.B * L.T * L.F}, {"labels", (size_t)L.B, NULL, 1}, {"sample weights", (size_t)L.B},
      {"params", L.p_total},          {"grads", L.p_total},             {"adam m", L.p_total},
      {"adam v", L.p_total},          {"adam state", 8},                {"workspace", L.total},
  };
  if (!get_bufs(env, argv + 5, b, 9)) return NULL;
  const int32_t *y = (const int32_t *)b[1].p;
  for (int i = 0; i < L.B; i++) {
    if (y[i] < 0 || y[i] >= L.C) {
      char msg[96];
      snprintf(msg, sizeof msg, "labels[%d] = %d is not a class in [0, %d)", i, y[i], L.C);
      napi_throw_range_error(env, "KILO_NATIVE_ARG", msg);
      return NULL;
    }
  }
  const double loss = kern->train_step(&L, F32(b, 0), y, F32(b, 2), F32(b, 3), F32(b, 4), F32(b, 5), F32(b, 6), F32(b, 7), F32(b, 8));
  CHECK(napi_create_double(env, loss, &out));
  return out;
}

/* predict(cell, B, T, F, U, x, params, probs [B * 3]): the whole classifier, nothing kept. */
static napi_value Predict(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  Layout L;
  if (!get_call(env, info, argv, 8, "predict", &L)) return NULL;
  Buf b[3] = {{"x", (size_t)L.B * L.T * L.F}, {"params", L.p_total}, {"probs", (size_t)L.B * L.C}};
  if (!get_bufs(env, argv + 5, b, 3)) return NULL;
  float *scratch = scratch_alloc(env, L.predict_total);
  if (!scratch) return NULL;
  kern->predict(&L, F32(b, 0), F32(b, 1), F32(b, 2), scratch);
  free(scratch);
  return NULL;
}

/* profile() -> { tscHz, phases: { name: ticks } } of this thread since the last call (then reset). */
static double tsc_hz(void) {
  static double hz = 0;
  if (hz > 0) return hz;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  const uint64_t t0 = __rdtsc();
  do clock_gettime(CLOCK_MONOTONIC, &b);
  while ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec) < 2e7);
  hz = (double)(__rdtsc() - t0) / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9);
  return hz;
}

static napi_value Profile(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, phases, v;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_object(env, &phases));
  for (int i = 0; i < PH_N; i++) {
    CHECK(napi_create_double(env, (double)prof_ticks[i], &v));
    CHECK(napi_set_named_property(env, phases, phase_names[i], v));
    prof_ticks[i] = 0;
  }
  CHECK(napi_create_double(env, tsc_hz(), &v));
  CHECK(napi_set_named_property(env, out, "tscHz", v));
  CHECK(napi_set_named_property(env, out, "phases", phases));
  return out;
}

/* The C allocator's own figures and its release of free memory (glibc; elsewhere mallocStats gives
 * null and mallocTrim false). Not kernels: they live here because this is the addon kilo already
 * builds. Why: every training runs on a worker thread, and glibc gives each thread that allocates
 * its own arena (up to 8 x cores); what tfjs/wasm, the trees and V8 free in those arenas stays in
 * the process's RSS after the thread is gone. malloc_trim(0) hands every arena's free pages back to
 * the kernel (src/native/memory.ts calls it after a training and after a predictor is released). */
static napi_value MallocStats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  napi_value v;
  CHECK(napi_create_object(env, &out));
  /* arena: bytes taken from the system by sbrk/arena heaps; hblkhd: in mmapped chunks; uordblks: in
   * use; fordblks: free but kept; keepcost: releasable top of the main arena. */
  const struct { const char *k; size_t v; } f[] = {
      {"arena", mi.arena}, {"mmapped", mi.hblkhd}, {"inUse", mi.uordblks}, {"free", mi.fordblks}, {"releasable", mi.keepcost}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    CHECK(napi_create_double(env, (double)f[i].v, &v));
    CHECK(napi_set_named_property(env, out, f[i].k, v));
  }
#else
  CHECK(napi_get_null(env, &out));
#endif
  return out;
}

static napi_value MallocTrim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
#if defined(__GLIBC__)
  CHECK(napi_get_boolean(env, malloc_trim(0) != 0, &out));
#else
  CHECK(napi_get_boolean(env, 0, &out));
#endif
  return out;
}

/* mallopt(name, value) for the settings kilo tunes: 'mmap_threshold' (bytes; a fixed value also stops
 * glibc from raising it after each large free, which otherwise moves buffers of up to 32 MB into the
 * arenas where a free cannot return them), 'trim_threshold' (bytes), 'arena_max' (count). Returns
 * whether glibc accepted it (false off glibc or for an unknown name). */
static napi_value Mallopt(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  char name[32] = {0};
  size_t len;
  int64_t value = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok || napi_get_value_int64(env, argv[1], &value) != napi_ok ||
      value < 0 || value > INT32_MAX) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "mallopt expects a setting name and a non-negative 32-bit integer");
    return NULL;
  }
  int ok = 0;
#if defined(__GLIBC__)
  if (strcmp(name, "mmap_threshold") == 0) ok = mallopt(M_MMAP_THRESHOLD, (int)value);
  else if (strcmp(name, "trim_threshold") == 0) ok = mallopt(M_TRIM_THRESHOLD, (int)value);
  else if (strcmp(name, "arena_max") == 0) ok = mallopt(M_ARENA_MAX, (int)value);
#endif
  CHECK(napi_get_boolean(env, ok != 0, &out));
  return out;
}

/* What this CPU runs. KILO_RNN_TEST_NO_AVX512 / KILO_RNN_TEST_NO_AVX2 (compile-time only, never set by
 * native/build.mjs) make a build act as on an older CPU, so the fallbacks are tested on this one. */
static int has_avx2_fma(void) {
#ifdef KILO_RNN_TEST_NO_AVX2
  return 0;
#else
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
}
static int has_avx512(void) {
#ifdef KILO_RNN_TEST_NO_AVX512
  return 0;
#else
  return has_avx2_fma() && __builtin_cpu_supports("avx512f");
#endif
}

/* setIsa('avx2' | 'avx512') -> the name now in use; throws if this CPU lacks it. Process-wide (every thread). */
static napi_value SetIsa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  char name[16] = {0};
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, "KILO_NATIVE_ARG", "setIsa expects 'avx2' or 'avx512'");
    return NULL;
  }
  if (strcmp(name, "avx2") == 0) __atomic_store_n(&kern, &kernel_table_avx2, __ATOMIC_RELAXED);
  else if (strcmp(name, "avx512") == 0 && has_avx512()) __atomic_store_n(&kern, &kernel_table_avx512, __ATOMIC_RELAXED);
  else {
    napi_throw_range_error(env, "KILO_NATIVE_ARG", strcmp(name, "avx512") == 0 ? "this CPU lacks AVX-512F" : "isa must be 'avx2' or 'avx512'");
    return NULL;
  }
  CHECK(napi_create_string_utf8(env, kern->name, NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  __builtin_cpu_init();
  const int ok = has_avx2_fma();
  const Kernels *none = NULL;
  __atomic_compare_exchange_n(&kern, &none, ok && has_avx512() ? &kernel_table_avx512 : &kernel_table_avx2, 0, __ATOMIC_RELAXED,
                              __ATOMIC_RELAXED);
  napi_value v;
  if (napi_create_int32(env, KILO_RNN_ABI, &v) != napi_ok || napi_set_named_property(env, exports, "abi", v) != napi_ok) return NULL;
  if (napi_get_boolean(env, ok, &v) != napi_ok || napi_set_named_property(env, exports, "available", v) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, ok ? kern->name : "this CPU lacks AVX2/FMA", NAPI_AUTO_LENGTH, &v) != napi_ok ||
      napi_set_named_property(env, exports, "isa", v) != napi_ok)
    return NULL;
  if (napi_create_string_utf8(env, !ok ? "" : has_avx512() ? "avx2,avx512" : "avx2", NAPI_AUTO_LENGTH, &v) != napi_ok ||
      napi_set_named_property(env, exports, "isas", v) != napi_ok)
    return NULL;
  /* The allocator functions work on any CPU: exported before the kernels' AVX2 check. */
  napi_property_descriptor mem[] = {
      {"mallocStats", NULL, MallocStats, NULL, NULL, NULL, napi_default, NULL},
      {"mallocTrim", NULL, MallocTrim, NULL, NULL, NULL, napi_default, NULL},
      {"mallopt", NULL, Mallopt, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof mem / sizeof mem[0], mem) != napi_ok) return NULL;
  if (!ok) return exports;
  napi_property_descriptor props[] = {
      {"workspaceFloats", NULL, WorkspaceFloats, NULL, NULL, NULL, napi_default, NULL},
      {"paramFloats", NULL, ParamFloats, NULL, NULL, NULL, napi_default, NULL},
      {"forward", NULL, Forward, NULL, NULL, NULL, napi_default, NULL},
      {"backward", NULL, Backward, NULL, NULL, NULL, napi_default, NULL},
      {"infer", NULL, Infer, NULL, NULL, NULL, napi_default, NULL},
      {"trainStep", NULL, TrainStep, NULL, NULL, NULL, napi_default, NULL},
      {"predict", NULL, Predict, NULL, NULL, NULL, napi_default, NULL},
      {"setIsa", NULL, SetIsa, NULL, NULL, NULL, napi_default, NULL},
      {"profile", NULL, Profile, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
