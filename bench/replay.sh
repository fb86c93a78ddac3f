#!/usr/bin/env bash
# bench/replay.sh: AOF -> RDB, AOF compaction and replay, rdbtool against
# redis-server itself, side by side in one run, on two AOFs written by a real
# Redis 7.0 (appendonly yes, no RDB preamble):
#   strings  bench/gen's strings dataset (the AOF bench/aof.sh makes, 550 MiB
#            of payload)
#   mixed    bench/gen's mixed dataset: every type and encoding, four
#            databases, streams with groups (455 MiB of payload, about 780 MB)
#
#   bench/replay.sh [--dir DIR] [--only strings|mixed] [--runs N]
#
# The AOFs are made once and kept in DIR. redis-server is timed from start
# until it has loaded the AOF and saved an RDB (SAVE) / rewritten its AOF
# (BGREWRITEAOF); its peak RSS is VmHWM. rdbtool's is /usr/bin/time's maximum
# RSS. A run measures the five tasks one after the other (server SAVE,
# convert, server BGREWRITEAOF, rewrite, replay), so that the server and
# rdbtool see about the same load; a speed-up is the ratio within one run,
# and the table gives the median over --runs runs (default 1) of times, RSS
# and ratios, with each run's figures and load (loadavg) listed under it.
set -euo pipefail
DIR=/tmp/rdbtool-bench
ONLY=""
RUNS=1
while [ $# -gt 0 ]; do
	case $1 in
	--dir) DIR=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	*) echo "usage: bench/replay.sh [--dir DIR] [--only strings|mixed] [--runs N]" >&2; exit 2 ;;
	esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$DIR/bin"
(cd "$ROOT" && go build -o "$DIR/bin/rdbtool" ./cmd/rdbtool && go build -o "$DIR/bin/gen" ./bench/gen)
W=$DIR/replay-work
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT

start_redis() { # dir [args...]: starts redis-server in dir; sets PORT and PID
	local dir=$1; shift
	PORT=$((17000 + RANDOM % 3000))
	redis-server --port "$PORT" --bind 127.0.0.1 --dir "$dir" --save '' --daemonize no --logfile "$dir/redis.log" "$@" &
	PID=$!
	PIDS+=("$PID")
}

wait_ready() {
	until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.02; done
}

# make_aof NAME GENFLAGS: writes DIR/NAME.aof with a real redis-server.
make_aof() {
	local name=$1 flags=$2 aof=$DIR/$1.aof srv=$DIR/srv-make-$1
	[ -s "$aof" ] && return
	echo "making $aof (gen $flags)" >&2
	rm -rf "$srv" && mkdir -p "$srv"
	start_redis "$srv" --appendonly yes --aof-use-rdb-preamble no --appendfsync no --auto-aof-rewrite-percentage 0
	wait_ready
	# shellcheck disable=SC2086 # flags are words
	"$DIR/bin/gen" $flags 2>"$srv/gen.log" | redis-cli -p "$PORT" --pipe --pipe-timeout 600 >"$srv/pipe.log"
	grep -q '^errors: 0,' "$srv/pipe.log" || { echo "the server rejected commands: $(tail -1 "$srv/pipe.log")" >&2; exit 1; }
	kill "$PID"; wait "$PID" 2>/dev/null || true
	mv "$(ls "$srv"/appendonlydir/*.incr.aof | tail -1)" "$aof"
	rm -rf "$srv"
}

# server MODE AOF: redis-server loads AOF, then SAVE or BGREWRITEAOF; prints "seconds rssMB"
server() {
	local mode=$1 aof=$2 srv=$W/srv t0 t1 hwm
	rm -rf "$srv" && mkdir -p "$srv" && cp "$aof" "$srv/appendonly.aof"
	cat "$srv/appendonly.aof" >/dev/null
	sync # the copy's writes, and the previous task's, are not this one's
	t0=$(date +%s.%N)
	start_redis "$srv" --appendonly yes --auto-aof-rewrite-percentage 0
	wait_ready
	if [ "$mode" = save ]; then
		redis-cli -p "$PORT" save >/dev/null
	else
		redis-cli -p "$PORT" bgrewriteaof >/dev/null
		sleep 0.05
		while redis-cli -p "$PORT" info persistence | grep -q 'aof_rewrite_in_progress:1'; do sleep 0.02; done
	fi
	t1=$(date +%s.%N)
	hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$PID/status")
	kill "$PID"; wait "$PID" 2>/dev/null || true
	rm -rf "$srv"
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') $hwm"
}

# tool CMD...: runs rdbtool; prints "seconds rssMB"
tool() {
	local out
	sync # what the previous task left for the disk is not this one's to wait for
	/usr/bin/time -o "$W/time" -f '%e %M' "$DIR/bin/rdbtool" "$@" >/dev/null 2>"$W/stderr" || { cat "$W/stderr" >&2; exit 1; }
	out=$(tail -1 "$W/time")
	echo "${out% *} $(( ${out#* } / 1024 ))"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# med VALUE...: the median of the values
med() { printf '%s\n' "$@" | median; }

# ratio A B: A/B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

bench() { # NAME
	local name=$1 aof=$DIR/$1.aof size run x l0 l1 e r c
	local rs=() rr=() ts=() tr=() ws=() wr=() rps=() rpr=() es=() er=() cx=() rx=() runs=()
	size=$(stat -c %s "$aof")
	rm -rf "$W" && mkdir -p "$W"
	cat "$aof" >/dev/null
	echo
	echo "### $name: $aof, $((size >> 20)) MiB"
	echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	for run in $(seq "$RUNS"); do
		l0=$(cut -d' ' -f1 /proc/loadavg)
		x=$(server save "$aof"); rs+=("${x% *}"); rr+=("${x#* }")
		x=$(tool convert --force --no-progress "$aof" "$W/out.rdb"); ts+=("${x% *}"); tr+=("${x#* }")
		x=$(server rewrite "$aof"); ws+=("${x% *}"); wr+=("${x#* }")
		x=$(tool rewrite --force "$aof" "$W/out-dir"); rps+=("${x% *}"); rpr+=("${x#* }")
		x=$(tool replay --no-progress --exec DBSIZE --exec 'SCAN 0 COUNT 5' "$aof"); es+=("${x% *}"); er+=("${x#* }")
		l1=$(cut -d' ' -f1 /proc/loadavg)
		cx+=("$(ratio "${rs[-1]}" "${ts[-1]}")")
		rx+=("$(ratio "${ws[-1]}" "${rps[-1]}")")
		runs+=("run $run, load $l0 -> $l1: SAVE ${rs[-1]} s / convert ${ts[-1]} s = ${cx[-1]}x; BGREWRITEAOF ${ws[-1]} s / rewrite ${rps[-1]} s = ${rx[-1]}x; replay ${es[-1]} s; peak RSS: server ${rr[-1]} / ${wr[-1]}, convert ${tr[-1]}, rewrite ${rpr[-1]}, replay ${er[-1]} MB")
	done
	echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| task | redis-server 7.0 | rdbtool | speed-up | peak RSS (server / rdbtool) |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	row() { awk -v t="$1" -v a="$2" -v ar="$3" -v b="$4" -v br="$5" -v x="$6" 'BEGIN{printf "| %s | %.2f s | %.2f s | **%.1fx** | %d / %d MB |\n", t, a, b, x, ar, br}'; }
	row "AOF -> RDB (load + SAVE vs convert)" "$(med "${rs[@]}")" "$(med "${rr[@]}")" "$(med "${ts[@]}")" "$(med "${tr[@]}")" "$(med "${cx[@]}")"
	row "compaction (load + BGREWRITEAOF vs rewrite)" "$(med "${ws[@]}")" "$(med "${wr[@]}")" "$(med "${rps[@]}")" "$(med "${rpr[@]}")" "$(med "${rx[@]}")"
	e=$(med "${es[@]}"); r=$(med "${er[@]}"); c=$(med "${tr[@]}")
	echo "| replay --exec (DBSIZE, SCAN) | | $e s | | $r MB ($(awk -v a="$r" -v b="$c" 'BEGIN{printf "%+.0f%%", (a-b)*100/b}') of convert's) |"
	echo
	printf -- '- %s\n' "${runs[@]}"
}

make_aof strings "-dataset strings -target-mb 550 -seed 2"
make_aof mixed "-dataset mixed -target-mb 455 -seed 1"
for d in strings mixed; do
	if [ -z "$ONLY" ] || [ "$ONLY" = "$d" ]; then
		bench "$d"
	fi
done
