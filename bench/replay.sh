#!/usr/bin/env bash
# bench/replay.sh: AOF -> RDB and AOF compaction, rdbtool against redis-server
# itself, on the AOF bench/aof.sh makes (run that first).
#   bench/replay.sh [--dir DIR]
# redis-server is timed from start until it has loaded the AOF and saved an RDB
# (SAVE) / rewritten its AOF (BGREWRITEAOF); its peak RSS is VmHWM.
set -euo pipefail
DIR=/tmp/rdbtool-bench
[ "${1:-}" = --dir ] && DIR=$2
AOF=$DIR/strings.aof
[ -s "$AOF" ] || { echo "no $AOF: run bench/aof.sh first" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
(cd "$ROOT" && go build -o "$DIR/bin/rdbtool" ./cmd/rdbtool)
size=$(stat -c %s "$AOF")
cat "$AOF" >/dev/null
W=$DIR/replay-work
rm -rf "$W" && mkdir -p "$W"

measure() { # label cmd...: prints "label seconds rssMB"
	local label=$1; shift
	local out
	/usr/bin/time -o "$W/time" -f '%e %M' "$@" >/dev/null 2>"$W/stderr" || { cat "$W/stderr" >&2; exit 1; }
	out=$(tail -1 "$W/time")
	echo "$label ${out% *} $(( ${out#* } / 1024 ))"
}

server() { # mode (save|rewrite): starts redis on a copy of the AOF, times load+mode
	local mode=$1 srv=$W/srv-$1 port=$((17000 + RANDOM % 3000)) t0 t1 pid hwm
	rm -rf "$srv" && mkdir -p "$srv" && cp "$AOF" "$srv/appendonly.aof"
	t0=$(date +%s.%N)
	redis-server --port "$port" --bind 127.0.0.1 --dir "$srv" --appendonly yes --save '' \
		--auto-aof-rewrite-percentage 0 --daemonize no --logfile "$srv/log" &
	pid=$!
	until redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
	if [ "$mode" = save ]; then
		redis-cli -p "$port" save >/dev/null
	else
		redis-cli -p "$port" bgrewriteaof >/dev/null
		sleep 0.2
		while redis-cli -p "$port" info persistence | grep -q 'aof_rewrite_in_progress:1'; do sleep 0.05; done
	fi
	t1=$(date +%s.%N)
	hwm=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$pid/status)
	kill $pid; wait $pid 2>/dev/null || true
	echo "redis-server-$mode $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') $hwm"
}

echo "AOF: $AOF, $((size >> 20)) MiB"
echo "| task | tool | seconds | MB/s | peak RSS MB |"
echo "| --- | --- | ---: | ---: | ---: |"
row() { echo "| $1 | $2 | $3 | $(awk -v s="$size" -v t="$3" 'BEGIN{printf "%.0f", s/1048576/t}') | $4 |"; }
read -r _ s r < <(server save);                                   row "AOF -> RDB" "redis-server (load + SAVE)" "$s" "$r"
read -r _ s r < <(measure x "$DIR/bin/rdbtool" convert --force "$AOF" "$W/out.rdb"); row "AOF -> RDB" "rdbtool convert" "$s" "$r"
read -r _ s r < <(server rewrite);                                row "compaction" "redis-server (load + BGREWRITEAOF)" "$s" "$r"
read -r _ s r < <(measure x "$DIR/bin/rdbtool" rewrite --force "$AOF" "$W/out-dir"); row "compaction" "rdbtool rewrite" "$s" "$r"
rm -rf "$W"
