#!/usr/bin/env bash
# record.sh OUT TARGET -c LINE: the shell of paper.mk for the files it makes in OUT. Appends the
# recipe line LINE to OUT/commands.sh, runs it with bash, and appends "TARGET<TAB>wall
# seconds<TAB>peak KB" to OUT/times.tsv.
set -eu
out=$1 target=$2 line=$4
mkdir -p "$out"
printf '%s\n' "$line" >> "$out/commands.sh"
exec /usr/bin/time -f "$target\t%e\t%M" -a -o "$out/times.tsv" bash -c "$line"
