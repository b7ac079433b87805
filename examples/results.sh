#!/usr/bin/env bash
# results.sh: the results page of `make -f paper.mk paper`, in Markdown on stdout. It assembles
# text and draws no conclusion of its own: the comparisons ann-eval compare wrote into OUT, the
# table of memory.sh, the steps and commands record.sh recorded there, and the settings, which
# paper.mk passes by name in the environment (RESULTS_VARS there):
#   OUT                 the run's directory
#   COMMAND             the command that makes the page
#   DATASET, TRAIN_NAME the data and the router's training queries, in words
#   PAPER_CURVES        the curves compared, in the table's order
#   PLOT                the plot's file name, beside the page (and its -memory.svg)
#   K ROUNDS FRACTION EPOCHS SIZE_WEIGHT POINTS KEPOCHS KREPOCHS KMEMORY REPLICAS EPSILON PRUNE TARGET
#                       paper.mk's settings of the same names
set -euo pipefail
for v in OUT COMMAND DATASET TRAIN_NAME PAPER_CURVES PLOT K ROUNDS FRACTION EPOCHS SIZE_WEIGHT KEPOCHS KREPOCHS KMEMORY \
         REPLICAS EPSILON PRUNE TARGET; do
  [ -n "${!v:-}" ] || { echo "results.sh: error: $v is not set" >&2; exit 64; }
done
plural() { [ "$1" = 1 ] || echo s; }
size() { awk -v b="$1" 'BEGIN { if (b < 1e6) printf "%.1f KB", b / 1e3; else printf "%.1f MB", b / 1e6 }'; }
points=${POINTS:-"ann-train's default number of"}

cat <<EOF
# Vectors fetched for the same recall: centroid routing, SPANN-style replication, the learned router

Data: $DATASET, K = $K clusters from one \`ann-kmeans\` run, shared by every method. Recall@1
is measured on the test queries only, a tie at the first neighbour counting as a hit; a query
fetches whole clusters in rank order until its vector budget is spent (\`--budget\`; the kernel
router: every cluster whose probability per vector clears a threshold, \`--threshold\`), and the
figures are the mean vectors (and kilobytes, compressed, as read from storage) fetched per query
where recall@1 first reaches each level, interpolated between the two settings around it
(\`ann-eval compare\`). Every replica and duplicate fetched counts. Router training queries:
$TRAIN_NAME; $ROUNDS duplication round$(plural "$ROUNDS") (\`ann-dup --fraction $FRACTION\`). MLP
router: $EPOCHS epochs per round, clusters ranked by probability per vector fetched
(\`--size-weight $SIZE_WEIGHT\`). Kernel router: $points points per
cluster within \`--memory $KMEMORY\`, $KEPOCHS epochs, then $KREPOCHS per later round
(\`ann-train --router kernel\`).

$(cat "$OUT/comparison.md")

The paper (SIFT1M, its own router and SPANN): the router fetches 58% fewer vectors than k-means
with centroid routing (0.42×) and 80% fewer than SPANN (0.20×) at recall@1 0.90. SPANN-style
replication here: each base vector also in up to $REPLICAS clusters within (1+$EPSILON)× the
distance of its nearest centroid, SPANN's RNG rule skipping redundant ones
(\`ann-kmeans --replicate --replicas $REPLICAS --epsilon $EPSILON\`); query pruning drops a fetched
cluster whose centroid is more than (1+$PRUNE)× as far as the nearest (\`--prune $PRUNE\`).

By \`--nprobe\` instead of budget (the FAISS IVF-Flat way of probing, for comparison with
published figures):

$(cat "$OUT/comparison-nprobe.md")

![recall@1 against vectors fetched]($PLOT)

## What each method builds and holds

Wall time and peak memory of each build step (its last run), and the size of what it made; a
method's build is the steps its files need (the test queries' ground truth is shared).

| file | seconds | peak memory | size |
|---|---:|---:|---:|
EOF
nbase=$(( $(stat -c %s "$OUT/assign.ivecs") / 8 ))  # the plain assignment: one cluster (2 int32) per vector
awk -F'\t' 'NF == 3 && $1 ~ /\.(fvecs|bvecs|ivecs|annn|anni|annm)$/ { if (!($1 in t)) order[n++] = $1; t[$1] = $2; kb[$1] = $3 }
  END { for (i = 0; i < n; i++) print order[i] "\t" t[order[i]] "\t" kb[order[i]] }' "$OUT/times.tsv" |
while IFS=$'\t' read -r file secs kb; do
  [ -f "$OUT/$file" ] || continue
  size=$(stat -c %s "$OUT/$file")
  per=""
  [[ $file == *.anni ]] && per=$(awk -v s="$size" -v n="$nbase" 'BEGIN { printf " (%.1f B/vector)", s / n }')
  printf '| %s | %s | %s | %s%s |\n' "$file" "$secs" "$(size $((kb * 1024)))" "$(size "$size")" "$per"
done
cat <<EOF

What routing holds in memory besides the index directory, as \`ann-eval sweep\` reports it:

| curve | router memory |
|---|---|
EOF
for f in $PAPER_CURVES; do
  printf '| %s | %s |\n' "$(sed -n '1s/^# label: //p' "$f")" "$(sed -n 's/^router memory: //p' "${f%.tsv}.txt")"
done

if [ -f "$OUT/memory.md" ]; then
  printf '\n## Routers at equal memory\n\n'
  cat "$OUT/memory.md"
  printf '\n![vectors fetched against router memory](%s)\n' "${PLOT%.svg}-memory.svg"
fi
cat <<EOF

## Commands

\`$COMMAND\` runs these, from \`examples/\`, with the tools' directory on the PATH (every command
that made a file in the run's directory, as \`record.sh\` recorded it, in order):

\`\`\`sh
$(cat "$OUT/commands.sh")
\`\`\`

## Machine

- $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(uname -sr)
- $(swift --version 2>/dev/null | grep -m1 -o 'Swift version [0-9.]*' || echo "Swift"), ann-tools $(ann-kmeans --version)
- generated $(date -u +%Y-%m-%dT%H:%MZ)
EOF
