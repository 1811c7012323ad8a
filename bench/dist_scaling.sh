#!/bin/bash
# 1 process x 2 threads vs 2 processes x 1 thread vs 1 x 1 on configs/mlm-tiny.yaml
# (README "Several processes and machines"): samples/s from metrics.jsonl (first
# display period left out) and CPU time of all processes from /usr/bin/time.
#   bench/dist_scaling.sh BUILD_DIR [UPDATES]
set -e
BUILD=${1:?usage: bench/dist_scaling.sh BUILD_DIR [UPDATES]}
U=${2:-40}
B=$BUILD/bin/cotrain
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=$BUILD/dist-scaling
mkdir -p "$D/runs"
python3 - "$D" <<'PY'
import random, sys
d = sys.argv[1]
random.seed(3)
words = ("the a cat dog sat on mat ran to park runs jumped quickly slowly big small red blue house tree bird "
         "sings walking and with under over green").split()
with open(d + "/corpus.txt", "w") as f:
    for _ in range(4000):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(20, 55))) + ".\n")
toks = "[PAD] [UNK] [CLS] [SEP] [MASK] . , the a cat dog sat on mat ran to park run jump quick slow big small red blue house tree bird sing walk and with under over green ##s ##ed ##ly ##ing".split()
open(d + "/vocab.txt", "w").write("\n".join(toks) + "\n")
PY
common="--task mlm --config $ROOT/configs/mlm-tiny.yaml --data $D/corpus.txt --vocab $D/vocab.txt --set trainer.max_updates=$U --set trainer.display_every=10 --set trainer.save_every=0"
for round in 1 2; do
  for mode in 1x2 2x1 1x1; do
    out=$D/runs/$mode-$round
    rm -rf "$out"
    case $mode in
      1x2) cmd="$B pretrain $common --out $out --set trainer.threads=2" ;;
      1x1) cmd="$B pretrain $common --out $out --set trainer.threads=1" ;;
      2x1) cmd="$B launch --nproc 2 -- pretrain $common --out $out --set trainer.threads=1" ;;
    esac
    /usr/bin/time -f "%e %U %S" -o "$out.time" $cmd >/dev/null 2>&1
    python3 - "$out" "$mode" "$round" <<'PY'
import json, sys
out, mode, rnd = sys.argv[1:]
r = [json.loads(l) for l in open(out + "/metrics.jsonl")][1:]
wall, user, sys_ = map(float, open(out + ".time").read().split()[-3:])
print("%s round %s: %.1f samples/s, wall %.1f s, cpu %.2f s" % (mode, rnd, sum(x["samples_per_s"] for x in r) / len(r), wall, user + sys_))
PY
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
