#!/usr/bin/env bash
# Runs `cotrain bench` (fast paths on, off, and on with bfloat16 products) and the idiomatic PyTorch twin of the
# same model and step, in the same run, and prints the ratio table that README.md's
# Performance section shows.
#
#   bench/run.sh [--build DIR] [--threads N] [--steps N] [--rounds N] [--tasks "mlm"]
#
# Every variant runs --rounds times, interleaved (torch, cotrain, torch, ...), and
# the best of its per-round medians counts: other load on the machine only ever
# slows a run down. PyTorch runs with OPENBLAS_CORETYPE unset and set to
# $BENCH_CORETYPE (default SkylakeX); the faster counts. FLOP utilisation is against
# the best matrix-product rate measured here by oneDNN (cotrain bench --task peak)
# or by torch.matmul (bench/torch_peak.py), whichever is higher.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="$root/build"
threads=2
steps=10
rounds=2
tasks="mlm"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --tasks) tasks="$2"; shift 2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
cotrain="$build/bin/cotrain"
[[ -x "$cotrain" ]] || { echo "run.sh: $cotrain not built (ninja -C $build cotrain_app)" >&2; exit 2; }
py=/usr/bin/python3
coretype="${BENCH_CORETYPE:-SkylakeX}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# The issue-6 configuration; the other tasks will add their presets here.
sizes_mlm="--layers 4 --hidden 256 --heads 4 --ffn 1024 --vocab 30522 --seq 128 --batch 32"
# ERICA small preset: 16 rows of 128 tokens (8 ED + 8 RD documents, 8 entities of 3 mentions each), the MLM
# encoder at half its batch plus pooling and the ED/RD InfoNCE, ~51 GFLOP a step: about 1 s a step for PyTorch
# at 2 threads on idle cores (half the MLM step, which is ~2.4 s at batch 32).
sizes_erica="--layers 4 --hidden 256 --heads 4 --ffn 1024 --vocab 30522 --seq 128 --batch 16 --entities 8"
# UNIMO small preset: 32 caption-image pairs (40 tokens, 36 regions), three encoder passes (joint 77
# tokens, image 37, caption 40), ~112 GFLOP a step: 1-3 s a step for PyTorch at 2 threads here.
sizes_unimo="--layers 4 --hidden 256 --heads 4 --ffn 1024 --vocab 30522 --seq 40 --regions 36 --batch 32"
# ViLBERT small preset: 32 caption-image pairs (40 tokens, 36 regions + IMG, as the reference's 36-token
# captions and 36 boxes), 4 text TRMs, 4 image TRMs and 4 Co-TRMs all 256 wide: ~89 GFLOP a step, 1-3 s.
sizes_vilbert="--layers 4 --hidden 256 --heads 4 --ffn 1024 --vocab 30522 --seq 40 --regions 36 --batch 32"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for task in $tasks; do
  var="sizes_$task"; sizes="${!var}"
  for ((r = 0; r < rounds; r++)); do
    env -u OPENBLAS_CORETYPE "$py" "$here/torch_$task.py" $sizes --threads "$threads" --steps "$steps" \
      | sed 's/^/torch_unset /' >> "$out/$task"
    OPENBLAS_CORETYPE="$coretype" "$py" "$here/torch_$task.py" $sizes --threads "$threads" --steps "$steps" \
      | sed 's/^/torch_set /' >> "$out/$task"
    "$cotrain" bench --task "$task" $sizes --threads "$threads" --steps "$steps" --fast-paths on \
      | sed 's/^/cotrain_fast /' >> "$out/$task"
    "$cotrain" bench --task "$task" $sizes --threads "$threads" --steps "$steps" --fast-paths off \
      | sed 's/^/cotrain_plain /' >> "$out/$task"
    "$cotrain" bench --task "$task" $sizes --threads "$threads" --steps "$steps" --fast-paths on --bf16 on \
      | sed 's/^/cotrain_bf16 /' >> "$out/$task"
  done
done
"$cotrain" bench --task peak --threads "$threads" | sed 's/^/peak_dnnl /' > "$out/peak"
"$cotrain" bench --task peak --threads "$threads" --bf16 on | sed 's/^/peak_dnnl_bf16 /' > "$out/peak_bf16"
env -u OPENBLAS_CORETYPE "$py" "$here/torch_peak.py" --threads "$threads" | sed 's/^/peak_torch_unset /' >> "$out/peak"
OPENBLAS_CORETYPE="$coretype" "$py" "$here/torch_peak.py" --threads "$threads" | sed 's/^/peak_torch_set /' >> "$out/peak"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$py" "$here/report.py" --threads "$threads" --dir "$out" --tasks $tasks
