#!/usr/bin/env bash
# bench/aof.sh: verify an AOF of several hundred MB written by a real server,
# side by side with redis-check-aof (and cat), in one run.
#   bench/aof.sh [--dir DIR] [--mb 550]
# The AOF is made once (a redis-server with appendonly yes and no RDB
# preamble, fed by bench/gen's strings dataset) and kept in DIR for later runs.
set -euo pipefail
DIR=/tmp/rdbtool-bench
MB=550
while [ $# -gt 0 ]; do
	case $1 in
	--dir) DIR=$2; shift 2 ;;
	--mb) MB=$2; shift 2 ;;
	*) echo "usage: bench/aof.sh [--dir DIR] [--mb N]" >&2; exit 2 ;;
	esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$DIR/bin"
(cd "$ROOT" && go build -o "$DIR/bin/gen" ./bench/gen && go build -o "$DIR/bin/rdbtool" ./cmd/rdbtool)
AOF=$DIR/strings.aof
if [ ! -s "$AOF" ]; then
	srv=$DIR/srv-aof
	rm -rf "$srv" && mkdir -p "$srv"
	port=$((17000 + RANDOM % 3000))
	redis-server --port "$port" --bind 127.0.0.1 --dir "$srv" --save '' --appendonly yes \
		--aof-use-rdb-preamble no --appendfsync no --auto-aof-rewrite-percentage 0 --daemonize no --logfile "$srv/redis.log" &
	pid=$!
	for _ in $(seq 100); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	"$DIR/bin/gen" -dataset strings -target-mb "$MB" -seed 2 | redis-cli -p "$port" --pipe --pipe-timeout 600 >"$srv/pipe.log"
	kill "$pid"; wait "$pid" || true
	incr=$(ls "$srv"/appendonlydir/*.incr.aof | tail -1)
	mv "$incr" "$AOF"
	rm -rf "$srv"
fi
size=$(stat -c %s "$AOF")
cat "$AOF" >/dev/null
echo "AOF: $AOF, $((size >> 20)) MiB, $(grep -c -a '^\*' "$AOF" || true) lines starting with '*'"
echo "| tool | seconds (3 runs) | MB/s (median) | peak RSS MB |"
echo "| --- | --- | ---: | ---: |"
for tool in cat redis-check-aof "rdbtool verify"; do
	times=() rss=0
	for _ in 1 2 3; do
		case $tool in
		cat) cmd=(cat "$AOF") ;;
		redis-check-aof) cmd=(redis-check-aof "$AOF") ;;
		*) cmd=("$DIR/bin/rdbtool" verify --no-progress "$AOF") ;;
		esac
		out=$( { /usr/bin/time -f '%e %M' "${cmd[@]}" >/dev/null; } 2>&1 | tail -1)
		times+=("${out% *}")
		r=${out#* }; [ "$r" -gt "$rss" ] && rss=$r
	done
	med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
	echo "| $tool | ${times[*]} | $(awk -v s="$size" -v t="$med" 'BEGIN{printf "%.0f", s/1048576/t}') | $((rss / 1024)) |"
done
