#!/usr/bin/env bash
# Issue 15 acceptance run: glotta tune on the shared data, resumable (rerun the same command).
#
#   bash benchmarks/tune_study.sh [default|study] [TRIALS]
#
# all-MiniLM-L6-v2 on Italian triplets mined with BM25 from gutenberg_it (no overlap with the
# evaluation tasks), target XQuAD-it, general XQuAD-en (each split by query: dev for tuning, the
# rest held out). "default": glotta's default space, steps 50-250 (the study's 10k-50k x 0.005);
# "study": the Italian study's grid with its eight configurations enqueued, steps x 0.0002 (2-10
# steps of batches of 64-384 rows, up to 1.2 passes over the triplets; $STEPS_SCALE to change it)
# and GradCache for those batches. Sized for 2 CPU cores; the study folder goes to
# $RUNS (default /tmp/glotta-tune-runs), logs and the report to benchmarks/out/tune/.
set -euo pipefail
space=${1:-default} trials=${2:-8}
here=$(cd "$(dirname "$0")/.." && pwd)
glotta="$here/.venv/bin/glotta"
data=${GLOTTA_DATA:-$here/../shared/data}
runs=${RUNS:-/tmp/glotta-tune-runs}
out="$here/benchmarks/out/tune"
mkdir -p "$runs" "$out"
if [ ! -f "$runs/triplets/triplets.jsonl" ]; then
  "$glotta" triplets build --corpus "$data/corpora/it/gutenberg_it/docs.jsonl" --lang ita --miner bm25 \
    --num-negatives 1 --output "$runs/triplets" > "$out/triplets.log" 2>&1
fi
common=(sentence-transformers/all-MiniLM-L6-v2 --data "$runs/triplets/triplets.jsonl"
        --target-task "$data/tasks/it/retrieval_xquad_it" --general-task "$data/tasks/en/retrieval_xquad_en"
        --trials "$trials" --eval-steps 50 --eval-queries 200 --max-seq-length 64)
if [ "$space" = study ]; then
  "$glotta" tune run "${common[@]}" --output "$runs/minilm-study" --space study --steps-scale "${STEPS_SCALE:-0.0002}" \
    --enqueue-study --loss cached-infonce --mini-batch-size 32 --eval-steps 10 2>&1 | tee "$out/minilm-study.log"
  cp -r "$runs/minilm-study/report" "$out/minilm-study-report"
else
  "$glotta" tune run "${common[@]}" --output "$runs/minilm-default" --steps-scale 0.005 --batch-size 32 \
    2>&1 | tee "$out/minilm-default.log"
  cp -r "$runs/minilm-default/report" "$out/minilm-default-report"
fi
