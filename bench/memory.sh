#!/usr/bin/env bash
# Measure `rdbtool memory` beside `rdbtool dump` on the benchmark files that
# bench/run.sh makes (bench/run.sh --only strings,mixed --generate-only), in one
# run, alternating the commands. See docs/benchmarks.md.
#
#   bench/memory.sh [--dir /tmp/rdbtool-bench] [--runs 5]
#
# Prints a markdown table: median wall time, median CPU (user+sys), peak RSS,
# and the machine's load before and after.
set -euo pipefail
DIR=/tmp/rdbtool-bench
RUNS=5
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) DIR=${2:?}; shift 2 ;;
	--runs) RUNS=${2:?}; shift 2 ;;
	*) echo "memory.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$DIR/bin/rdbtool-memory-bench
mkdir -p "$DIR/bin"
(cd "$ROOT" && go build -o "$BIN" ./cmd/rdbtool)

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "load before: $(uptime)"
echo
echo "| file | command | wall (median of $RUNS) | CPU user+sys | peak RSS |"
echo "| --- | --- | --- | --- | --- |"
for f in strings mixed; do
	file=$DIR/$f.rdb
	[ -f "$file" ] || { echo "memory.sh: $file missing: run bench/run.sh --only strings,mixed --generate-only" >&2; exit 1; }
	declare -A wall=() cpu=() rss=()
	for ((i = 0; i < RUNS; i++)); do
		for cmd in dump memory; do
			out=$( { /usr/bin/time -f "%e %U %S %M" "$BIN" "$cmd" --no-progress "$file" >/dev/null; } 2>&1 | tail -1)
			read -r w u s m <<<"$out"
			wall[$cmd]+="$w "
			cpu[$cmd]+="$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}') "
			rss[$cmd]+="$m "
		done
	done
	for cmd in dump memory; do
		w=$(tr ' ' '\n' <<<"${wall[$cmd]}" | grep . | median)
		c=$(tr ' ' '\n' <<<"${cpu[$cmd]}" | grep . | median)
		r=$(tr ' ' '\n' <<<"${rss[$cmd]}" | grep . | sort -n | tail -1)
		echo "| $f ($(du -m "$file" | cut -f1) MB) | rdbtool $cmd | ${w} s | ${c} s | $((r / 1024)) MB |"
	done
	unset wall cpu rss
done
echo
echo "load after: $(uptime)"
