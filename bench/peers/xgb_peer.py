"""XGBoost peer for bench/gbdt.bench.ts.

Reads the split written by the bench (meta.json + <slice>_X.f32 row-major float32 +
<slice>_y.u8 labels), trains xgboost hist with the same hyper-parameters for each requested
nthread, and prints one JSON line per run: fit seconds, validation/test accuracy, one-row
predict latency. Usage: xgb_peer.py <dir> [nthread ...]
"""
import json
import sys
import time

import numpy as np
import xgboost as xgb


def load(d, name, n_cols):
    x = np.fromfile(f"{d}/{name}_X.f32", dtype=np.float32).reshape(-1, n_cols)
    y = np.fromfile(f"{d}/{name}_y.u8", dtype=np.uint8)
    return x, y


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
        params = {
            "objective": "multi:softprob",
            "num_class": 3,
            "tree_method": "hist",
            "max_depth": p["maxDepth"],
            "eta": p["eta"],
            "lambda": p["lambda"],
            "gamma": p["gamma"],
            "min_child_weight": p["minChildWeight"],
            "subsample": p["subsample"],
            "colsample_bytree": p["colsampleBytree"],
            "max_bin": p["maxBins"],
            "nthread": nt,
            "seed": p["seed"],
            "eval_metric": "mlogloss",
        }
        c0 = time.process_time()
        t0 = time.perf_counter()
        dtr = xgb.DMatrix(xtr, label=ytr, nthread=nt)
        booster = xgb.train(params, dtr, num_boost_round=p["rounds"])
        fit_s = time.perf_counter() - t0
        cpu_s = time.process_time() - c0
        dva = xgb.DMatrix(xva, nthread=nt)
        dte = xgb.DMatrix(xte, nthread=nt)
        val_acc = float((booster.predict(dva).argmax(1) == yva).mean())
        test_acc = float((booster.predict(dte).argmax(1) == yte).mean())
        one = xgb.DMatrix(xte[:1], nthread=nt)
        reps = 200
        t1 = time.perf_counter()
        for _ in range(reps):
            booster.predict(one)
        row_ms = (time.perf_counter() - t1) / reps * 1000
        print(json.dumps({"nthread": nt, "fit_s": fit_s, "cpu_s": cpu_s, "val_acc": val_acc, "test_acc": test_acc,
                          "predict_row_ms": row_ms, "xgboost": xgb.__version__}), flush=True)


if __name__ == "__main__":
    main()
