# memory.sh's functions: where a sweep's curve crosses a recall, and how a fetch is printed.
# (ann-eval compare reads the same off a curve for tables of whole curves.)

# at FILE R: mean vectors and bytes per query where recall@1 first reaches R, interpolated
# linearly between the sweep points around it (as ann-eval sweep does); "<" marks a curve
# that is already past R at its first point, ">" one that never reaches R.
at() {
  awk -F'\t' -v r="$2" '
    /^#/ || $1 == "setting" { next }
    { n++; rc[n] = $2; v[n] = $4; b[n] = $5 }
    END {
      for (i = 1; i <= n; i++) if (rc[i] >= r) {
        if (i == 1) { printf "<\t%.1f\t%.0f\n", v[1], b[1]; exit }
        if (rc[i] == r) { printf "=\t%.1f\t%.0f\n", v[i], b[i]; exit }
        t = (r - rc[i-1]) / (rc[i] - rc[i-1])
        printf "=\t%.1f\t%.0f\n", v[i-1] + t * (v[i] - v[i-1]), b[i-1] + t * (b[i] - b[i-1]); exit
      }
      printf ">\t%.1f\t%.0f\n", v[n], b[n]
    }' "$1"
}

fmtv() {  # fmtv MARK VALUE: "6,083" or "> 20,000"
  local v; v=$(printf "%'.0f" "$2")
  case $1 in "<") echo "≤ $v" ;; ">") echo "> $v" ;; *) echo "$v" ;; esac
}

