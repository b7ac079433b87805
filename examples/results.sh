#!/usr/bin/env bash
# results.sh OUT DATASET TRAIN_NAME COMMAND EPOCHS ROUNDS K PLOT EPSILON PRUNE POINTS KEPOCHS KREPOCHS: the results table of
# `make paper`, in Markdown on stdout, from the sweep files, times.tsv and the index files in OUT.
# Also writes OUT/results.tsv (one line per method) for scripts and tests.
set -euo pipefail
out=$1 dataset=$2 train=$3 command=$4 epochs=$5 rounds=$6 k=$7 plot=$8 epsilon=$9 prune=${10} kpoints=${11} kepochs=${12} krepochs=${13}
kpoints=${kpoints:-"ann-train's default number of"}

# shellcheck source=curves.sh
source "$(dirname "$0")/curves.sh"

# mb FILE: a file's size in MB, one decimal.
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

# secs NAME...: the summed wall time of build steps (the last run of each) from times.tsv.
secs() {
  local total=0 s
  for name in "$@"; do
    s=$(awk -F'\t' -v n="$name" '$1 == n { t = $2 } END { print t + 0 }' "$out/times.tsv")
    total=$(echo "$total + $s" | bc -l)
  done
  printf '%.1f' "$total"
}

# The base size: the plain assignment holds one cluster per vector (.ivecs: 2 int32 a record).
nbase=$(( $(stat -c %s "$out/assign.ivecs") / 8 ))

methods=(centroid spann spann-pruned)
labels=("centroid routing" "SPANN-style replication" "SPANN-style replication, query pruning ($prune)")
indexes=("$out/index.anni" "$out/spann.anni" "$out/spann.anni")
spann_build=$(secs centroids.fvecs spann.ivecs spann.anni)
builds=("$(secs centroids.fvecs index.anni)" "$spann_build" "$spann_build")
routers=()
for s in r k; do
  name=$( [ "$s" = r ] && echo "MLP router (residual), by budget" || echo "kernel router, by threshold")
  steps="centroids.fvecs index.anni train-gt.annn model.${s}0.annm"
  for ((r = 0; r <= rounds; r++)); do
    [ "$r" -gt 0 ] && steps="$steps assign.$s$r.ivecs index.$s$r.anni model.$s$r.annm"
    methods+=("$s$r")
    routers+=("$s$r")
    labels+=("$name, $( [ "$r" = 0 ] && echo "no duplication" || echo "after $r duplication round$( [ "$r" -gt 1 ] && echo s)")")
    indexes+=("$out/index.$s$r.anni")
    # shellcheck disable=SC2086
    builds+=("$(secs $steps)")
  done
done

declare -A v80 v90 v95 b90 m90
: > "$out/results.tsv.tmp"
printf 'method\tvectors@0.80\tvectors@0.90\tvectors@0.95\tbytes@0.90\tindex_bytes\tbuild_seconds\n' >> "$out/results.tsv.tmp"
for i in "${!methods[@]}"; do
  m=${methods[$i]} f="$out/paper.${methods[$i]}.tsv"
  IFS=$'\t' read -r _ v80[$m] _ <<< "$(at "$f" 0.80)"
  IFS=$'\t' read -r m90[$m] v90[$m] b90[$m] <<< "$(at "$f" 0.90)"
  IFS=$'\t' read -r _ v95[$m] _ <<< "$(at "$f" 0.95)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "${v80[$m]}" "${v90[$m]}" "${v95[$m]}" "${b90[$m]}" \
    "$(stat -c %s "${indexes[$i]}")" "${builds[$i]}" >> "$out/results.tsv.tmp"
done
mv "$out/results.tsv.tmp" "$out/results.tsv"

ratio() { echo "$1 / $2" | bc -l; }
pct() { printf '%+.0f%%' "$(echo "($1 / $2 - 1) * 100" | bc -l)"; }
best=r0
for m in "${routers[@]}"; do
  if (( $(echo "${v90[$m]} < ${v90[$best]}" | bc -l) )); then best=$m; fi
done
# Against the better of the two SPANN-style variants.
c=${v90[centroid]} s=${v90[spann]} sname="SPANN-style replication"
if (( $(echo "${v90[spann-pruned]} < $s" | bc -l) )); then s=${v90[spann-pruned]} sname="SPANN-style replication with query pruning"; fi
b=${v90[$best]}
label_of() { local i; for i in "${!methods[@]}"; do [ "${methods[$i]}" = "$1" ] && echo "${labels[$i]}"; done; }

# The first line says whether the router wins, and why not when it does not.
if (( $(echo "$b >= $c" | bc -l) )); then
  echo "**The learned router does not beat centroid routing here**: at recall@1 0.90 its best (the $(label_of "$best")) fetches $(fmtv = "$b") vectors per query against $(fmtv = "$c") ($(pct "$b" "$c")). A router can only learn the distribution its training queries show it, and these ($train) differ from the test queries; see docs/router.md."
elif (( $(echo "$b >= $s" | bc -l) )); then
  echo "**The learned router (best: the $(label_of "$best")) beats centroid routing ($(pct "$b" "$c") vectors at recall@1 0.90) but not $sname ($(pct "$b" "$s"))**, and is far from the paper's −58%: a router gains only as far as its training queries resemble the test queries (docs/router.md), while replication and pruning fix the boundary cases of every query alike."
else
  echo "**The learned router (best: the $(label_of "$best")) fetches the fewest vectors at recall@1 0.90: $(pct "$b" "$c") against centroid routing and $(pct "$b" "$s") against $sname** (the paper: −58% and −80%)."
fi
cat <<EOF

# Vectors fetched for the same recall: centroid routing, SPANN-style replication, the learned router

Data: $dataset, K = $k clusters from one \`ann-kmeans\` run (20 iterations, seed 1), shared by
every method. Recall@1 is measured on the test queries only, a tie at the first neighbour
counting as a hit; a query fetches whole clusters in rank order until its vector budget is
spent (\`--budget\`; the kernel router: every cluster whose probability per vector clears a
threshold, \`--threshold\`), and the figures are the mean vectors (and bytes, compressed, as read from
storage) fetched per query where recall@1 first reaches each level, interpolated between the
two budgets around it. Every replica and duplicate fetched counts. Router training queries:
$train; $rounds duplication rounds (\`ann-dup --fraction 0.2\`). MLP router: $epochs epochs per
round, clusters ranked by probability per vector fetched (\`--size-weight 1\`). Kernel router:
$kpoints points per cluster (float16), $kepochs epochs, then $krepochs per later round
(\`ann-train --router kernel\`; each query scores the 64 clusters whose centroids rank first).

| method | vectors @ 0.80 | vectors @ 0.90 | vectors @ 0.95 | KB read @ 0.90 | vs centroid @ 0.90 | vs best SPANN-style @ 0.90 | index size | build time |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for i in "${!methods[@]}"; do
  m=${methods[$i]}
  f="$out/paper.$m.tsv"
  mk80=$(at "$f" 0.80 | cut -f1) mk95=$(at "$f" 0.95 | cut -f1)
  size=$(stat -c %s "${indexes[$i]}")
  printf '| %s | %s | %s | %s | %.0f | %s | %s | %.1f MB (%.1f B/vector) | %s s |\n' "${labels[$i]}" \
    "$(fmtv "$mk80" "${v80[$m]}")" "$(fmtv "${m90[$m]}" "${v90[$m]}")" "$(fmtv "$mk95" "${v95[$m]}")" \
    "$(echo "${b90[$m]} / 1024" | bc -l)" "$(pct "${v90[$m]}" "$c")" "$(pct "${v90[$m]}" "$s")" \
    "$(echo "$size / 1000000" | bc -l)" "$(echo "$size / $nbase" | bc -l)" "${builds[$i]}"
done
cn=$(at "$out/paper.centroid-nprobe.tsv" 0.90) sn=$(at "$out/paper.spann-nprobe.tsv" 0.90)
cat <<EOF

The paper (SIFT1M, its own router and SPANN): the router fetches 58% fewer vectors than
k-means with centroid routing and 80% fewer than SPANN at recall@1 0.90. Here the best router
($(label_of "$best")) is $(pct "$b" "$c") against centroid routing ($(printf '%.2f' "$(ratio "$b" "$c")")×) and $(pct "$b" "$s") against
$sname ($(printf '%.2f' "$(ratio "$b" "$s")")×). SPANN-style replication here: each base vector in
up to 8 clusters within (1+$epsilon)× the distance of its nearest centroid, SPANN's RNG rule
skipping redundant ones (\`ann-kmeans --replicate --epsilon $epsilon\`); query pruning drops a
fetched cluster whose centroid is more than (1+$prune)× as far as the nearest (\`--prune $prune\`).

By \`--nprobe\` instead of budget (the FAISS IVF-Flat way of probing, for comparison with
published figures): centroid routing fetches $(fmtv "$(cut -f1 <<< "$cn")" "$(cut -f2 <<< "$cn")") vectors at recall@1 0.90, SPANN-style
replication $(fmtv "$(cut -f1 <<< "$sn")" "$(cut -f2 <<< "$sn")").

Build time is the wall time of the steps each method needs, summed: k-means with the plain
assignment and packing; for SPANN-style, the replicated assignment and its pack instead; for the
router, the training queries' ground truth, training, and each round's duplication, repack and
training. The test queries' ground truth is shared and not counted.

What routing keeps in memory besides the index directory: centroid routing and SPANN-style
the centroids ($(mb "$out/centroids.fvecs")); the MLP router its weights ($(mb "$out/model.r0.annm"));
the kernel router its points ($(mb "$out/model.k0.annm")).

![recall@1 against vectors fetched]($(basename "$plot"))
EOF
if [ -f "$out/memory.md" ]; then
  printf '\n## Routers at equal memory\n\n'
  cat "$out/memory.md"
  printf '\n![vectors fetched against router memory](%s)\n' "$(basename "${plot%.svg}")-memory.svg"
fi
cat <<EOF

## Commands

\`$command\` runs, from \`examples/\`, with \`BIN=../.build/release\` on the PATH:

\`\`\`sh
EOF
sed -e "s|^/usr/bin/time -f '[^']*' -a -o [^ ]* ||" "$out/commands.txt"
cat <<EOF
\`\`\`

## Machine

- $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(uname -sr)
- $(swift --version 2>/dev/null | grep -m1 -o 'Swift version [0-9.]*' || echo "Swift"), ann-tools $(ann-kmeans --version)
- generated $(date -u +%Y-%m-%dT%H:%MZ)
EOF
