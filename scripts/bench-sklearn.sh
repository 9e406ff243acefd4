#!/usr/bin/env bash
# `npm run bench:sklearn`: the seed answer with scikit-learn timed beside the klaxon CLI on the
# same pairs in one run (bench/sklearn/seed.py). Optional: klaxon builds and tests without
# Python; this makes its own venv under .cache/ (gitignored) and touches nothing else.
# numpy's BLAS uses every core by default, as the seed answer's user gets; on a shared machine
# that contends with other jobs, so OPENBLAS_NUM_THREADS=1 npm run bench:sklearn is the steadier
# comparison (klaxon is single-threaded). The header prints the thread count in force.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.cache/sklearn-venv
WORK=.cache/sklearn-bench
# Pinned to what the shared fixtures and the published seed figures were made with.
PINS=(scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1)

die() { echo "bench:sklearn: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 not found (needed for this optional benchmark only)"
command -v node >/dev/null || die "node not found"
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" >"$WORK/venv.log" 2>&1 \
    || { rm -rf "$VENV"; die "python3 -m venv failed (Debian/Ubuntu: apt-get install python3-venv); see $WORK/venv.log"; }
fi
PY="$VENV/bin/python"
# Install only when the pinned versions are not already there, so reruns work offline.
if ! "$PY" - "${PINS[@]}" >/dev/null 2>&1 <<'EOF'
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
EOF
then
  "$PY" -m pip install -q "${PINS[@]}" >"$WORK/pip.log" 2>&1 \
    || die "pip install ${PINS[*]} failed (needs Python >= 3.11 and PyPI); see $WORK/pip.log"
fi

# Build when the CLI or the pairs writer is missing or older than any source file.
if [ ! -f dist/src/cli.js ] || [ ! -f dist/bench/sklearn/pairs.js ] \
  || [ -n "$(find src bench -name '*.ts' -newer dist/bench/sklearn/pairs.js -print -quit)" ] \
  || [ -n "$(find src bench -name '*.ts' -newer dist/src/cli.js -print -quit)" ]; then
  npm run build >"$WORK/build.log" 2>&1 || die "npm run build failed; see $WORK/build.log"
fi

VERSIONS=$("$PY" -c '
import sklearn, numpy, scipy, threadpoolctl
blas = [i["num_threads"] for i in threadpoolctl.threadpool_info()]
print("scikit-learn", sklearn.__version__ + ", numpy", numpy.__version__ + ", scipy", scipy.__version__ + ", BLAS threads", blas)
') || die "the venv at $VENV is broken; delete it and rerun"
echo "# scikit-learn seed answer vs klaxon — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), node $(node --version), $("$PY" --version), $VERSIONS"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
node dist/bench/sklearn/pairs.js "$WORK/pairs.json"
"$PY" bench/sklearn/seed.py "$WORK/pairs.json" --cli dist/src/cli.js >"$WORK/results.jsonl" \
  || die "seed.py failed; partial results in $WORK/results.jsonl"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "sklearn: median of 5 runs after a warm-up, 10^5 draws (per side for JS), numpy seeded 1..5, value/stderr of run 1."
echo "klaxon: CLI default method, its in-process median of 7 (--repeat 7, node start-up excluded). ratio = sklearn ms / klaxon ms."
echo
"$PY" bench/sklearn/seed.py --table "$WORK/results.jsonl"
echo
echo "JSON lines: $WORK/results.jsonl"
