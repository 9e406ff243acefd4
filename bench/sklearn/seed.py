"""The seed answer (plain Monte Carlo with scikit-learn), timed beside the klaxon CLI.

    python seed.py PAIRS.json [--cli dist/src/cli.js] > results.jsonl
    python seed.py --table results.jsonl

PAIRS.json is {"pairs": [{"name", "p", "q"}]} with p and q in klaxon's model JSON
(scikit-learn's field names; see src/gmm/json.ts). For each pair and measure the klaxon CLI
runs first, then scikit-learn, so each ratio is taken on the same machine state; one JSON
line per pair and measure goes to stdout.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

N = 100_000  # the seed answer's draw count (per side for JS)
RUNS = 5  # timed runs, after one warm-up
KLAXON_REPEAT = 7


def mixture(model):
    """A GaussianMixture set from model JSON without fitting, as the seed answer's user has one."""
    cov_type = model.get("covariance_type", "full")  # klaxon's default when the key is absent
    weights = np.asarray(model["weights"], dtype=float)
    gm = GaussianMixture(n_components=len(weights), covariance_type=cov_type)
    # klaxon renormalises weights (float32 exports round); do the same so both see one mixture.
    gm.weights_ = weights / weights.sum()
    gm.means_ = np.asarray(model["means"], dtype=float)
    gm.covariances_ = np.asarray(model["covariances"], dtype=float)
    gm.precisions_cholesky_ = _compute_precision_cholesky(gm.covariances_, cov_type)
    return gm


def seed_kl(p, q):
    """The seed answer: KL(p||q) = E_p[log p - log q] over 10^5 draws of p."""
    X, _ = p.sample(N)
    diff = p.score_samples(X) - q.score_samples(X)
    return diff.mean(), diff.std(ddof=1) / math.sqrt(N)


def seed_js(p, q):
    """JS = 1/2 E_p[log p - log m] + 1/2 E_q[log q - log m], m = (p + q)/2, 10^5 draws per side."""
    Xp, _ = p.sample(N)
    Xq, _ = q.sample(N)
    lp_p, lq_p = p.score_samples(Xp), q.score_samples(Xp)
    lp_q, lq_q = p.score_samples(Xq), q.score_samples(Xq)
    a = lp_p - (np.logaddexp(lp_p, lq_p) - math.log(2))
    b = lq_q - (np.logaddexp(lp_q, lq_q) - math.log(2))
    # The two sides are independent draws, so their variances add.
    return 0.5 * a.mean() + 0.5 * b.mean(), 0.5 * math.sqrt(a.var(ddof=1) / N + b.var(ddof=1) / N)


def time_seed(estimate, p, q):
    """Median wall ms of RUNS runs after one warm-up; value and stderr are those of the seed-1 run."""
    np.random.seed(0)  # sample() with random_state=None draws from numpy's global RandomState
    estimate(p, q)
    times, results = [], []
    for seed in range(1, RUNS + 1):
        np.random.seed(seed)
        t0 = time.perf_counter()
        results.append(estimate(p, q))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), results[0]


def time_klaxon(cli, measure, p_path, q_path):
    """The klaxon CLI's own in-process median of KLAXON_REPEAT runs (node start-up and JSON parsing excluded)."""
    cmd = ["node", cli, measure, "--p", p_path, "--q", q_path, "--repeat", str(KLAXON_REPEAT), "--json"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    process_ms = (time.perf_counter() - t0) * 1000
    if done.returncode != 0:
        sys.exit(f"seed.py: klaxon {measure} failed: {done.stderr.strip()}")
    out = json.loads(done.stdout)
    return out, process_ms


def finite(x):
    """JSON has no NaN or Infinity: write them as strings so every line stays parseable."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def run(pairs_path, cli):
    pairs = json.load(open(pairs_path))["pairs"]
    with tempfile.TemporaryDirectory(prefix="klaxon-sklearn-") as tmp:
        for i, pair in enumerate(pairs):
            paths = []
            for side in ("p", "q"):
                paths.append(os.path.join(tmp, f"{i}-{side}.json"))
                with open(paths[-1], "w") as f:
                    json.dump(pair[side], f)
            p, q = mixture(pair["p"]), mixture(pair["q"])
            for measure, estimate in (("kl", seed_kl), ("js", seed_js)):
                k_out, k_process_ms = time_klaxon(cli, measure, *paths)
                ms, (value, stderr) = time_seed(estimate, p, q)
                line = {
                    "name": pair["name"],
                    "measure": measure,
                    "ms_median": ms,
                    "value": finite(value),
                    "stderr": finite(stderr),
                    "d": p.means_.shape[1],
                    "k_p": p.n_components,
                    "k_q": q.n_components,
                    "klaxon_ms_median": k_out["ms_median"],
                    "klaxon_value": finite(k_out[measure]),
                    "klaxon_stderr": finite(k_out["stderr"]),
                    "klaxon_method": k_out["method"],
                    "klaxon_process_ms": k_process_ms,
                    "ratio": ms / k_out["ms_median"] if k_out["ms_median"] > 0 else None,
                }
                print(json.dumps(line), flush=True)


def fmt(x, digits=3):
    if isinstance(x, str) or x is None:
        return str(x)
    if x == 0:
        return "0"
    return f"{x:.{digits}g}" if 1e-3 <= abs(x) < 1e5 else f"{x:.{digits - 1}e}"


def table(results_path):
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    head = ("pair", "d", "K p/q", "measure", "sklearn ms", "klaxon ms", "ratio",
            "sklearn stderr", "klaxon stderr", "sklearn value", "klaxon value", "klaxon method")
    body = [
        (r["name"], str(r["d"]), f"{r['k_p']}/{r['k_q']}", r["measure"].upper(), fmt(r["ms_median"]),
         fmt(r["klaxon_ms_median"]), fmt(r["ratio"]), fmt(r["stderr"], 2), fmt(r["klaxon_stderr"], 2),
         fmt(r["value"], 5), fmt(r["klaxon_value"], 5), r["klaxon_method"])
        for r in rows
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for row in body:
        print("| " + " | ".join(row) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="pairs JSON (or, with --table, the results JSON lines)")
    ap.add_argument("--cli", default="dist/src/cli.js", help="the compiled klaxon CLI")
    ap.add_argument("--table", action="store_true", help="print a results file as a Markdown table")
    args = ap.parse_args()
    if args.table:
        table(args.file)
    else:
        run(args.file, args.cli)


if __name__ == "__main__":
    main()
