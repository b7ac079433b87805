#!/usr/bin/env bash
# memory.sh OUT TARGET MEMORIES ROUTERS TRAINS: the table of routers at equal memory, in
# Markdown on stdout, from OUT/mem.ROUTER.TRAIN.BYTES.{tsv,txt}, OUT/paper.centroid.tsv and
# OUT/times.tsv. Also writes OUT/memory.tsv (one line per router, training set and budget).
set -euo pipefail
out=$1 target=$2 memories=$3 routers=$4 trains=$5
# shellcheck source=curves.sh
source "$(dirname "$0")/curves.sh"

name() { case $1 in pq) echo "PQ router, learned calibration (default)" ;; pqt) echo "PQ in memory, temperature (baseline)" ;;
  mlp) echo "MLP router (residual)" ;; kernel) echo "kernel router" ;; *) echo "$1" ;; esac; }
# How the table names the training sets (MEMORY_LEARN_NAME, MEMORY_TRAIN_NAME; SIFT-DEB's by default).
trainset() { case $1 in learn) echo "${MEMORY_LEARN_NAME:-learn alone}" ;; train) echo "${MEMORY_TRAIN_NAME:-learn + log}" ;; *) echo "$1" ;; esac; }

IFS=$'\t' read -r _ centroid _ <<< "$(at "$out/paper.centroid.tsv" "$target")"
printf 'router\ttrain\tbudget_bytes_per_vector\tbytes_per_vector\tvectors\tvs_centroid\ttrain_seconds\tqps\n' > "$out/memory.tsv.tmp"
header="| router | queries | $(for m in $memories; do printf '%s B | ' "$m"; done)"
rule="|---|---|$(for _ in $memories; do printf -- '---:|'; done)"
rows="" missing=0
for r in $routers; do
  for t in $trains; do
    row="| $(name "$r") | $(trainset "$t") |"
    for m in $memories; do
      f="$out/mem.$r.$t.$m"
      if [ ! -f "$f.tsv" ]; then row="$row – |"; missing=1; continue; fi
      IFS=$'\t' read -r mark v _ <<< "$(at "$f.tsv" "$target")"
      bpv=$(sed -n 's/^router memory: .*, \([0-9.]*\) B per base vector$/\1/p' "$f.txt")
      secs=$(awk -F'\t' -v n="mem.$r.$t.$m.annm" '$1 == n { s = $2 } END { print s + 0 }' "$out/times.tsv")
      qps=$(awk -F'\t' '!/^#/ && $1 != "setting" { q = $7 } END { print q + 0 }' "$f.tsv")
      ratio=$(awk -v v="$v" -v c="$centroid" 'BEGIN { printf "%.2f", v / c }')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$t" "$m" "$bpv" "$v" "$ratio" "$secs" "$qps" >> "$out/memory.tsv.tmp"
      row="$row $(fmtv "$mark" "$v") (${ratio}×) |"
    done
    rows="$rows$row"$'\n'
  done
done
# Centroid routing needs no router: the same fetch at every budget, by vector budget.
row="| centroid routing, by budget (the baseline of the ratios) | none |"
for m in $memories; do
  printf 'centroid\t-\t%s\t0\t%s\t1.00\t0\t0\n' "$m" "$centroid" >> "$out/memory.tsv.tmp"
  row="$row $(fmtv = "$centroid") |"
done
rows="$rows$row"$'\n'
mv "$out/memory.tsv.tmp" "$out/memory.tsv"

cat <<MD
Vectors fetched per query at recall@1 $target (ties count, interpolated, duplicates counted)
against the memory the router may hold per base vector (\`ann-train --memory NB/vector\`),
every router fetching by the same probability-per-vector threshold (\`--threshold\`);
in brackets, against centroid routing by budget ($(fmtv = "$centroid") vectors).

$header
$rule
$rows
$([ "$missing" = 1 ] && echo "A dash marks a router not trained at that budget.")
The memory each router really holds, its training time (seconds) and the queries per second of
its sweep's last setting are in \`memory.tsv\`.
MD
