# Functions the bench scripts share (awk -f bench/wrk-stats.awk -f <their program>): a wrk
# latency in milliseconds, and the median, least and most of a space-separated list of figures.
function ms(v) {
  if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
  if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
  if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 }
  return v + 0
}
function sorted(list, a,   n, i, j, t) {
  n = split(list, a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  return n
}
function median(list,   a, n) { n = sorted(list, a); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function least(list,   a) { sorted(list, a); return a[1] }
function most(list,   a, n) { n = sorted(list, a); return a[n] }
