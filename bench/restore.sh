#!/usr/bin/env bash
# Benchmark "rdbtool restore" into a local redis-server, beside redis-cli --pipe
# of the RESTORE commands rdbtool itself writes (convert --to aof --restore):
# the raw-throughput anchor. See docs/benchmarks.md ("Restore into a server").
#
#   bench/restore.sh [--dir DIR] [--file RDB] [--runs 3]
#
# Without --file, the 450 MB mixed dataset of bench/run.sh is generated in DIR
# (or reused). Results (markdown) go to standard output; progress to standard
# error.
set -euo pipefail

DIR=/tmp/rdbtool-bench
FILE=
RUNS=3
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) DIR=${2:?}; shift 2 ;;
	--file) FILE=${2:?}; shift 2 ;;
	--runs) RUNS=${2:?}; shift 2 ;;
	*) sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
for t in redis-server redis-cli /usr/bin/time; do command -v "$t" >/dev/null || die "$t is missing"; done

mkdir -p "$DIR/bin"
if [ -z "$FILE" ]; then
	"$ROOT/bench/run.sh" --dir "$DIR" --only mixed --generate-only >&2
	FILE=$DIR/mixed.rdb
fi
[ -f "$FILE" ] || die "no $FILE"
log "building rdbtool"
(cd "$ROOT" && go build -o "$DIR/bin/rdbtool" ./cmd/rdbtool)
R=$DIR/bin/rdbtool
SRV=$DIR/restore-srv
AOF=$DIR/restore.aof
rm -rf "$SRV" && mkdir -p "$SRV"

PORT=$((20000 + RANDOM % 5000))
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$SRV" --save '' --appendonly no \
	--daemonize no --logfile "$SRV/redis.log" &
SRV_PID=$!
cleanup() {
	kill "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	rm -rf "$SRV" "$AOF"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 100); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
URL=redis://127.0.0.1:$PORT

flush() { redis-cli -p "$PORT" flushall >/dev/null; redis-cli -p "$PORT" function flush >/dev/null; }
keys() { redis-cli -p "$PORT" info keyspace | tr -d '\r' | awk -F'[=,]' '/^db/ {s += $2} END {print s + 0}'; }

# The server's own account (/proc/PID/schedstat): seconds it ran, and seconds
# it waited for a CPU. On a shared machine the wall time is mostly the second;
# the first is the work the commands cost it, whoever sent them.
sched() { awk '{printf "%.2f %.2f", $1 / 1e9, $2 / 1e9}' "/proc/$SRV_PID/schedstat"; }

# timed LABEL CMD: runs CMD under bash, appends "label wall rss_kib keys
# client_cpu server_ran server_waited send check" to $RES; send and check are
# the seconds rdbtool restore reports for sending and for its check pass
# ("-" for the other commands).
RES=$DIR/restore-results.txt
: >"$RES"
timed() {
	local label=$1 cmd=$2 tf=$DIR/.time
	flush
	local ran0 wait0 ran1 wait1
	read -r ran0 wait0 <<<"$(sched)"
	/usr/bin/time -f '%e %M %U %S' -o "$tf" bash -c "$cmd" >"$DIR/.out" 2>&1 || die "$label failed: $(tail -3 "$DIR/.out")"
	read -r ran1 wait1 <<<"$(sched)"
	local k
	k=$(keys)
	read -r wall rss usr sys <"$tf"
	local cpu ran waited
	cpu=$(awk -v a="$usr" -v b="$sys" 'BEGIN {printf "%.2f", a + b}')
	ran=$(awk -v a="$ran0" -v b="$ran1" 'BEGIN {printf "%.2f", b - a}')
	waited=$(awk -v a="$wait0" -v b="$wait1" 'BEGIN {printf "%.2f", b - a}')
	local send check
	send=$(sed -n 's/^rdbtool: restored .* in \([0-9.]*\)s:.*/\1/p' "$DIR/.out")
	check=$(sed -n 's/.*checked first, in \([0-9.]*\)s.*/\1/p' "$DIR/.out")
	log "$label: ${wall}s (sending ${send:--}s, check pass ${check:--}s), peak RSS $((rss / 1024)) MiB, client CPU ${cpu}s, server ran ${ran}s and waited ${waited}s for a CPU, $k keys"
	printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$label" "$wall" "$rss" "$k" "$cpu" "$ran" "$waited" "${send:--}" "${check:--}" >>"$RES"
}

log "preparing $AOF (rdbtool convert --to aof --restore)"
/usr/bin/time -f '%e %M' -o "$DIR/.time" "$R" convert --no-progress --to aof --restore "$FILE" "$AOF" 2>/dev/null
read -r conv_wall conv_rss <"$DIR/.time"
LOAD_BEFORE=$(uptime)
for run in $(seq "$RUNS"); do
	log "run $run of $RUNS"
	timed "redis-cli --pipe < restore.aof" "redis-cli -p $PORT --pipe < '$AOF' | tee /dev/stderr | grep -q '^errors: 0,'"
	timed "rdbtool convert --to aof --restore | redis-cli --pipe" "'$R' convert --no-progress --to aof --restore '$FILE' - | redis-cli -p $PORT --pipe | grep -q '^errors: 0,'"
	timed "rdbtool restore" "'$R' restore --no-progress '$FILE' $URL"
	timed "rdbtool restore --check as-sent" "'$R' restore --no-progress --check as-sent '$FILE' $URL"
	timed "rdbtool restore --no-check" "'$R' restore --no-progress --no-check '$FILE' $URL"
done
LOAD_AFTER=$(uptime)

size=$(stat -c %s "$FILE")
{
	echo "File: $(basename "$FILE"), $((size >> 20)) MiB, $(keys_in=$("$R" verify "$FILE" | sed -n 's/.*, \([0-9]*\) keys.*/\1/p'); echo "$keys_in") keys; redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'); $RUNS runs, the commands taking turns; keys/s, MB/s, RSS and the ratio are those of the median run."
	echo
	echo "uptime before: $LOAD_BEFORE"
	echo "uptime after:  $LOAD_AFTER"
	echo
	echo "Preparing restore.aof (convert --to aof --restore): ${conv_wall} s, peak RSS $((conv_rss / 1024)) MiB."
	echo
	echo "| command | wall, median (s) | best (s) | keys/s | MB/s of the RDB | peak RSS (MiB) | vs redis-cli --pipe | client CPU (s) | server ran (s) | server waited for a CPU (s) | rdbtool: sending (s) | sending vs the pipe | rdbtool: check pass (s) |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	ref=$(awk -F'\t' '$1 == "redis-cli --pipe < restore.aof" {print $2}' "$RES" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	for label in "redis-cli --pipe < restore.aof" "rdbtool convert --to aof --restore | redis-cli --pipe" "rdbtool restore" "rdbtool restore --check as-sent" "rdbtool restore --no-check"; do
		awk -F'\t' -v l="$label" -v size="$size" -v ref="$ref" '
			$1 == l { w[++n] = $2; r[n] = $3; k = $4; c[n] = $5; ran[n] = $6; wt[n] = $7; snd[n] = $8; chk[n] = $9 }
			END {
				# the median run by wall time, and the best wall time
				for (i = 1; i <= n; i++) o[i] = i
				for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (w[o[j]] < w[o[i]]) { t = o[i]; o[i] = o[j]; o[j] = t }
				m = o[int((n + 1) / 2)]
				sv = snd[m] == "-" ? "-" : sprintf("%.1f", snd[m]); sr = snd[m] == "-" ? "-" : sprintf("%.2fx", ref / snd[m])
				cv = chk[m] == "-" ? "-" : sprintf("%.1f", chk[m])
				printf "| %s | %.1f | %.1f | %d | %.1f | %d | %.2fx | %.1f | %.1f | %.1f | %s | %s | %s |\n", l, w[m], w[o[1]], k / w[m], size / 1e6 / w[m], r[m] / 1024, ref / w[m], c[m], ran[m], wt[m], sv, sr, cv
			}' "$RES"
	done
}
