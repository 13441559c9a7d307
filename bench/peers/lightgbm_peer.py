"""LightGBM peer for bench/gbdt.bench.ts.

Reads the split written by the bench (meta.json + <slice>_X.f32 row-major float32 +
<slice>_y.u8 labels), trains LightGBM with kilo's hyper-parameters for each requested
num_threads, and prints one JSON line per run: fit seconds (Dataset construction, i.e. binning,
included, as kilo's fit includes its binning), validation/test accuracy, one-row predict latency.
Usage: lightgbm_peer.py <dir> [num_threads ...]

How kilo's parameters map (LightGBM 4.x names):
- rounds -> num_iterations, eta -> learning_rate, lambda -> lambda_l2, gamma -> min_gain_to_split,
  minChildWeight -> min_sum_hessian_in_leaf, maxBins -> max_bin, subsample -> bagging_fraction
  (bagging_freq 1 when < 1), colsampleBytree -> feature_fraction, seed -> seed.
- maxDepth -> max_depth = maxDepth AND num_leaves = 2^maxDepth. kilo grows depth-wise (every node
  above maxDepth that has a split with positive gain is split); LightGBM grows leaf-wise (best
  leaf first) until num_leaves. With max_depth capping depth and num_leaves equal to the full
  tree's leaf count, the leaf-wise order can never run out of leaves first, so both grow the
  same set of splits: the same model capacity, and the same amount of tree work per round.
  (LightGBM's default num_leaves 31 would stop every tree at 31 leaves: less work, another model.)
- min_data_in_leaf = 0: kilo has no row-count minimum, only the hessian minimum above
  (LightGBM's default of 20 rows per leaf would prune splits kilo makes).
- multiclass: LightGBM's softmax hessian is K/(K-1) p(1-p), XGBoost's and kilo's 2 p(1-p); the
  same min_sum_hessian therefore admits slightly smaller leaves in LightGBM. Left as is: the
  objective is LightGBM's own.
"""
import json
import sys
import time

import lightgbm as lgb
import numpy as np


def load(d, name, n_cols):
    x = np.fromfile(f"{d}/{name}_X.f32", dtype=np.float32).reshape(-1, n_cols)
    y = np.fromfile(f"{d}/{name}_y.u8", dtype=np.uint8)
    return x, y


def params_for(p, n_threads):
    return {
        "objective": "multiclass",
        "num_class": 3,
        "boosting": "gbdt",
        "num_iterations": p["rounds"],
        "learning_rate": p["eta"],
        "max_depth": p["maxDepth"],
        "num_leaves": 2 ** p["maxDepth"],
        "max_bin": p["maxBins"],
        "lambda_l2": p["lambda"],
        "min_gain_to_split": p["gamma"],
        "min_sum_hessian_in_leaf": p["minChildWeight"],
        "min_data_in_leaf": 0,
        "bagging_fraction": p["subsample"],
        "bagging_freq": 1 if p["subsample"] < 1 else 0,
        "feature_fraction": p["colsampleBytree"],
        "seed": p["seed"],
        "num_threads": n_threads,
        "verbosity": -1,
    }


def main():
    d = sys.argv[1]
    threads = [int(t) for t in sys.argv[2:]] or [1]
    meta = json.load(open(f"{d}/meta.json"))
    n_cols = meta["nCols"]
    p = meta["params"]
    xtr, ytr = load(d, "train", n_cols)
    xva, yva = load(d, "valid", n_cols)
    xte, yte = load(d, "test", n_cols)
    for nt in threads:
        params = params_for(p, nt)
        c0 = time.process_time()
        t0 = time.perf_counter()
        # num_threads here too: Dataset construction (binning) otherwise uses every core in the 1T run.
        dtr = lgb.Dataset(xtr, label=ytr, params={"max_bin": p["maxBins"], "verbosity": -1, "num_threads": nt})
        booster = lgb.train(params, dtr)
        fit_s = time.perf_counter() - t0
        cpu_s = time.process_time() - c0
        val_acc = float((booster.predict(xva, num_threads=nt).argmax(1) == yva).mean())
        test_acc = float((booster.predict(xte, num_threads=nt).argmax(1) == yte).mean())
        one = xte[:1]
        reps = 200
        t1 = time.perf_counter()
        for _ in range(reps):
            booster.predict(one, num_threads=nt)
        row_ms = (time.perf_counter() - t1) / reps * 1000
        leaves = [t["num_leaves"] for t in booster.dump_model()["tree_info"]]
        print(json.dumps({"peer": "lightgbm", "version": lgb.__version__, "threads": nt, "fit_s": fit_s, "cpu_s": cpu_s,
                          "val_acc": val_acc, "test_acc": test_acc, "predict_row_ms": row_ms,
                          "mean_leaves": sum(leaves) / len(leaves)}), flush=True)


if __name__ == "__main__":
    main()
