#!/usr/bin/env bash
# Benchmark rdbtool against redis-check-rdb and cat on large RDB files written by
# a real redis-server. See docs/benchmarks.md.
#
#   bench/run.sh [--dir DIR] [--mb 450] [--only strings,mixed] [--keep]
#                [--runs 3] [--elems 20000000] [--keys 2500000] [--seed 1]
#                [--generate-only]
#
# Results (markdown) go to standard output and DIR/results.md; progress goes to
# standard error. Exit status is non-zero when a measured command fails.
set -euo pipefail

# ---------------------------------------------------------------------------
# What is measured: one line per command, "kind|label|success regexp|command".
# kind is the file extension it applies to (rdb; aof later); {} is the file; the
# command runs under bash with $BIN (where rdbtool is built) set; its output
# (stdout and stderr) must match the regexp (grep -E; empty: exit status only).
MEASURE=(
	'rdb|cat||cat {} >/dev/null'
	'rdb|redis-check-rdb|RDB looks OK|redis-check-rdb {}'
	'rdb|rdbtool verify|: OK|"$BIN/rdbtool" verify {}'
	'rdb|rdbtool dump (jsonl)||"$BIN/rdbtool" dump --no-progress {} >/dev/null'
)
# The label the ratio column compares against.
REF=redis-check-rdb

# Datasets: "name|minimum MiB|generator flags". {mb}, {elems}, {keys} and {seed} are the
# options of this script. A file below its minimum is regenerated with a
# proportionally larger -target-mb.
DATASETS=(
	'strings|400|-dataset strings -target-mb {mb} -seed {seed}'
	'mixed|400|-dataset mixed -target-mb {mb} -seed {seed} -plain-threshold 16384'
	'biglist|0|-dataset biglist -elems {elems} -seed {seed}'
	'bighash|0|-dataset bighash -elems {elems} -seed {seed}'
	'pages|0|-dataset pages -keys {keys} -seed {seed}'
)
# ---------------------------------------------------------------------------

DIR=/tmp/rdbtool-bench
MB=450
ONLY=
KEEP=0
RUNS=3
ELEMS=20000000
KEYS=2500000
SEED=1
GENERATE_ONLY=0

usage() {
	sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--dir) DIR=${2:?--dir needs a value}; shift 2 ;;
	--mb) MB=${2:?--mb needs a value}; shift 2 ;;
	--only) ONLY=${2:?--only needs a value}; shift 2 ;;
	--runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
	--elems) ELEMS=${2:?--elems needs a value}; shift 2 ;;
	--keys) KEYS=${2:?--keys needs a value}; shift 2 ;;
	--seed) SEED=${2:?--seed needs a value}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--generate-only) GENERATE_ONLY=1; KEEP=1; shift ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument $1" >&2; usage ;;
	esac
done
for n in "$MB" "$RUNS" "$ELEMS" "$KEYS" "$SEED"; do
	[[ $n =~ ^[0-9]+$ ]] || { echo "run.sh: not a number: $n" >&2; exit 2; }
done
[ "$RUNS" -ge 1 ] || { echo "run.sh: --runs must be at least 1" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$DIR/bin
LOGS=$DIR/logs

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

selected=()
for d in "${DATASETS[@]}"; do
	name=${d%%|*}
	if [ -z "$ONLY" ] || [[ ,$ONLY, == *,$name,* ]]; then
		selected+=("$d")
	fi
done
if [ -n "$ONLY" ]; then
	IFS=, read -ra wanted <<<"$ONLY"
	for w in "${wanted[@]}"; do
		printf '%s\n' "${DATASETS[@]}" | grep -q "^$w|" || die "unknown dataset $w (--only takes names from: $(printf '%s\n' "${DATASETS[@]}" | cut -d'|' -f1 | paste -sd, -))"
	done
fi
[ ${#selected[@]} -gt 0 ] || die "no dataset selected"

# --- tools -----------------------------------------------------------------
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null && command -v redis-check-rdb >/dev/null || need+=(redis-tools)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	[ "$(id -u)" = 0 ] || die "missing ${need[*]}; install them (apt-get install ${need[*]})"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }
fi
command -v go >/dev/null || die "go is not on PATH"

mkdir -p "$DIR" "$BIN" "$LOGS"
DIR=$(cd "$DIR" && pwd)
BIN=$DIR/bin
LOGS=$DIR/logs

# --- cleanup ---------------------------------------------------------------
SRV_PID=
GENERATED=()
cleanup() {
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" 2>/dev/null || true
	fi
	if [ "$KEEP" = 0 ] && [ ${#GENERATED[@]} -gt 0 ]; then
		log "removing generated files (use --keep to keep them)"
		rm -f "${GENERATED[@]}"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -----------------------------------------------------------------
log "building bench/gen into $BIN"
(cd "$ROOT" && go build -o "$BIN/gen" ./bench/gen)
if [ "$GENERATE_ONLY" = 0 ]; then
	log "building rdbtool into $BIN"
	(cd "$ROOT" && go build -o "$BIN/rdbtool" ./cmd/rdbtool) || die "rdbtool does not build"
fi
# The generator's sources (not its tests) decide whether a kept file is reusable.
GEN_SUM=$(for f in "$ROOT"/bench/gen/*.go; do [[ $f == *_test.go ]] || cat "$f"; done | sha256sum | cut -c1-16)
REDIS_VERSION=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')

# --- datasets --------------------------------------------------------------
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((17000 + RANDOM % 3000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

# meta FILE KEY: the value of KEY= in a .meta file.
meta() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -1; }

# start_server SRVDIR: starts redis-server in the background, sets SRV_PID and PORT.
start_server() {
	local srv=$1 try i
	for try in 1 2 3 4 5; do
		PORT=$(free_port)
		redis-server --port "$PORT" --bind 127.0.0.1 --dir "$srv" --dbfilename dump.rdb \
			--save '' --appendonly no --enable-debug-command local --daemonize no \
			--logfile "$srv/redis.log" &
		SRV_PID=$!
		for i in $(seq 100); do
			if redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; then
				return
			fi
			kill -0 "$SRV_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" 2>/dev/null || true
		SRV_PID=
		log "redis-server did not start on port $PORT (see $srv/redis.log); retrying"
	done
	die "redis-server does not start; see $srv/redis.log"
}

stop_server() {
	kill "$SRV_PID"
	wait "$SRV_PID" || true
	SRV_PID=
}

# generate NAME MINMIB FLAGS: makes DIR/NAME.rdb unless a matching one exists.
generate() {
	local name=$1 min=$2 template=$3
	local rdb=$DIR/$name.rdb metaf=$DIR/$name.meta srv=$DIR/srv-$name
	local flags=${template//\{mb\}/$MB}
	flags=${flags//\{elems\}/$ELEMS}
	flags=${flags//\{keys\}/$KEYS}
	flags=${flags//\{seed\}/$SEED}
	local want="gen=$GEN_SUM redis=$REDIS_VERSION flags=$flags"
	if [ -f "$rdb" ] && [ "$(meta "$metaf" want)" = "$want" ] &&
		[ "$(stat -c %s "$rdb")" = "$(meta "$metaf" size)" ]; then
		log "$name: reusing $rdb"
		return
	fi
	rm -f "$rdb" "$metaf"
	local used=$flags mb=$MB attempt size t0 t1 keyspace
	for attempt in 1 2 3; do
		rm -rf "$srv"
		mkdir -p "$srv"
		start_server "$srv"
		log "$name: gen $used | redis-cli -p $PORT --pipe (redis-server pid $SRV_PID)"
		t0=$(date +%s)
		# shellcheck disable=SC2086 # flags are words
		"$BIN/gen" $used 2>"$srv/gen.log" | redis-cli -p "$PORT" --pipe --pipe-timeout 600 >"$srv/pipe.log" 2>&1 ||
			die "$name: loading failed: $(tail -3 "$srv/pipe.log" "$srv/gen.log")"
		grep -q '^errors: 0,' "$srv/pipe.log" || die "$name: the server rejected commands: $(tail -1 "$srv/pipe.log")"
		keyspace=$(redis-cli -p "$PORT" info keyspace | tr -d '\r' | grep '^db' || true)
		log "$name: SAVE"
		[ "$(redis-cli -p "$PORT" save | tr -d '\r')" = OK ] || die "$name: SAVE failed (see $srv/redis.log)"
		stop_server
		t1=$(date +%s)
		mv "$srv/dump.rdb" "$rdb"
		GENERATED+=("$rdb" "$metaf")
		size=$(stat -c %s "$rdb")
		log "$name: $rdb is $((size >> 20)) MiB ($((t1 - t0)) s); $(sed -n 's/^gen: dataset=[^ ]* //p' "$srv/gen.log")"
		if [ $((size >> 20)) -ge "$min" ]; then
			break
		fi
		if [ "$attempt" = 3 ] || [[ $used != *-target-mb* ]]; then
			die "$name: $rdb is $((size >> 20)) MiB, below the $min MiB minimum; pass a larger --mb"
		fi
		mb=$((mb * (min + min / 20) / (size >> 20) + 1))
		log "$name: below $min MiB; regenerating with -target-mb $mb"
		used=$(sed "s/-target-mb [0-9]*/-target-mb $mb/" <<<"$used")
	done
	rm -rf "$srv"
	{
		echo "want=$want"
		echo "used=$used"
		echo "size=$size"
		echo "seconds=$((t1 - t0))"
		echo "keys=$(awk -F'[=,]' '{s += $2} END {print s + 0}' <<<"$keyspace")"
		echo "expires=$(awk -F'[=,]' '{s += $4} END {print s + 0}' <<<"$keyspace")"
		echo "dbs=$(cut -d: -f1 <<<"$keyspace" | paste -sd, -)"
	} >"$metaf"
}


df -h "$DIR" | tail -1 | awk '{print "disk: " $4 " free on " $6}' | while read -r l; do log "$l"; done
FILES=()
for d in "${selected[@]}"; do
	IFS='|' read -r name min template <<<"$d"
	generate "$name" "$min" "$template"
	FILES+=("$DIR/$name.rdb")
done
if [ "$GENERATE_ONLY" = 1 ]; then
	log "generated: ${FILES[*]}"
	exit 0
fi

# --- measure ---------------------------------------------------------------
export BIN
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
FAILED=0
FAILURES=()

# run_one LOG CMD FILE: runs CMD once; prints "wall_seconds peak_rss_kib
# cpu_seconds exit_status" (CPU = user + system).
run_one() {
	local logf=$1 cmd=$2 file=$3 tf=$LOGS/.time rc start end
	cmd=${cmd//\{\}/\"\$F\"}
	start=$EPOCHREALTIME
	if F=$file /usr/bin/time -f '%M %U %S' -o "$tf" bash -c "$cmd" >"$logf" 2>&1; then rc=0; else rc=$?; fi
	end=$EPOCHREALTIME
	# /usr/bin/time puts "Command exited with non-zero status" first: the
	# numbers are on the last line.
	tail -1 "$tf" | awk -v a="$start" -v b="$end" -v rc="$rc" '{printf "%.3f %d %.2f %d\n", b - a, $1, $2 + $3, rc}'
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

declare -A TIMES CPU RSS STATUS
for file in "${FILES[@]}"; do
	kind=${file##*.}
	base=$(basename "$file")
	log "$base: warming the page cache"
	cat "$file" >/dev/null
	for r in $(seq "$RUNS"); do
		for i in "${!MEASURE[@]}"; do
			IFS='|' read -r k label expect cmd <<<"${MEASURE[$i]}"
			[ "$k" = "$kind" ] || continue
			logf=$LOGS/${base%.*}-${label// /-}-$r.log
			read -r secs rss cpu rc < <(run_one "$logf" "$cmd" "$file")
			log "$base: $label run $r: ${secs}s, $((rss / 1024)) MiB, CPU ${cpu}s, exit $rc"
			key="$file|$i"
			TIMES[$key]="${TIMES[$key]:-} $secs"
			CPU[$key]="${CPU[$key]:-} $cpu"
			[ "${RSS[$key]:-0}" -ge "$rss" ] || RSS[$key]=$rss
			if [ "$rc" != 0 ] || { [ -n "$expect" ] && ! grep -qE -- "$expect" "$logf"; }; then
				STATUS[$key]=FAILED
				FAILED=1
				FAILURES+=("$base: $label (run $r) exited $rc: $(tail -c 300 "$logf" | tr '\n' ' ')")
			fi
		done
	done
done

# --- report ----------------------------------------------------------------
mib() { awk -v s="$1" 'BEGIN {printf "%.1f", s / 1048576}'; }
# targets LABEL RATIO: the table of LABEL's speed against $REF (target: at
# least RATIO times as fast) and peak RSS (target: under 100 MB).
targets() {
	local want=$1 ratio=$2 vi= i k label expect cmd file key ref med
	for i in "${!MEASURE[@]}"; do
		IFS='|' read -r k label expect cmd <<<"${MEASURE[$i]}"
		[ "$label" = "$want" ] && vi=$i
	done
	[ -n "$vi" ] || return 0
	echo
	echo "### Targets: $want"
	echo
	echo "| file | speed vs $REF (target >= ${ratio}x) | peak RSS (target < 100 MB) |"
	echo "| --- | --- | --- |"
	for file in "${FILES[@]}"; do
		key="$file|$vi"
		[ -n "${TIMES[$key]:-}" ] || continue
		ref=
		for i in "${!MEASURE[@]}"; do
			IFS='|' read -r k label expect cmd <<<"${MEASURE[$i]}"
			[ "$label" = "$REF" ] && [ -n "${TIMES[$file|$i]:-}" ] && ref=$(tr ' ' '\n' <<<"${TIMES[$file|$i]}" | grep . | median)
		done
		med=$(tr ' ' '\n' <<<"${TIMES[$key]}" | grep . | median)
		if [ "${STATUS[$key]:-}" = FAILED ]; then
			echo "| $(basename "$file") | FAILED | FAILED |"
			continue
		fi
		echo "| $(basename "$file") | $(awk -v r="$ref" -v t="$med" -v want="$ratio" 'BEGIN {if (r == "" || t <= 0) print "-"; else printf "%.1fx %s", r / t, (r / t >= want ? "met" : "NOT met")}') | $(awk -v k="${RSS[$key]}" 'BEGIN {printf "%.0f MB %s", k / 1024, (k / 1024 < 100 ? "met" : "NOT met")}') |"
	done
}

report() {
	local cpu mem
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
	echo "## rdbtool benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "- machine: $(nproc) cores ($cpu), $mem RAM, Linux $(uname -r), load average before measuring: $LOAD"
	echo "- redis-server and redis-check-rdb $REDIS_VERSION, $(go version | cut -d' ' -f3), rdbtool built from $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'an uncommitted tree')"
	echo "- each command run $RUNS times, interleaved, after a cat that warms the page cache: seconds is the median wall time, CPU s the median user + system time, peak RSS the largest of the runs; MB = MiB (2^20 bytes)"
	echo
	echo "### Files"
	echo
	echo "| file | size MB | keys | expires | databases | generator flags | load + SAVE s |"
	echo "| --- | ---: | ---: | ---: | --- | --- | ---: |"
	local file metaf size
	for file in "${FILES[@]}"; do
		metaf=${file%.*}.meta
		size=$(stat -c %s "$file")
		echo "| $(basename "$file") | $(mib "$size") | $(meta "$metaf" keys) | $(meta "$metaf" expires) | $(meta "$metaf" dbs) | \`$(meta "$metaf" used)\` | $(meta "$metaf" seconds) |"
	done
	echo
	echo "### Results"
	echo
	echo "| file | size MB | tool | seconds | MB/s | peak RSS MB | speed vs $REF | CPU s | runs (s) |"
	echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"
	local i k label expect cmd key med ref mbs ratio rss base
	for file in "${FILES[@]}"; do
		size=$(stat -c %s "$file")
		base=$(basename "$file")
		ref=
		for i in "${!MEASURE[@]}"; do
			IFS='|' read -r k label expect cmd <<<"${MEASURE[$i]}"
			if [ "$label" = "$REF" ] && [ -n "${TIMES[$file|$i]:-}" ]; then
				ref=$(tr ' ' '\n' <<<"${TIMES[$file|$i]}" | grep . | median)
			fi
		done
		for i in "${!MEASURE[@]}"; do
			IFS='|' read -r k label expect cmd <<<"${MEASURE[$i]}"
			key="$file|$i"
			[ -n "${TIMES[$key]:-}" ] || continue
			med=$(tr ' ' '\n' <<<"${TIMES[$key]}" | grep . | median)
			mbs=$(awk -v s="$size" -v t="$med" 'BEGIN {if (t > 0) printf "%.0f", s / 1048576 / t; else print "-"}')
			ratio=$(awk -v r="$ref" -v t="$med" 'BEGIN {if (r != "" && t > 0) printf "%.1fx", r / t; else print "-"}')
			rss=$(awk -v k="${RSS[$key]}" 'BEGIN {printf "%.0f", k / 1024}')
			if [ "${STATUS[$key]:-}" = FAILED ]; then
				med="FAILED"
				mbs=-
				ratio=-
			fi
			echo "| $base | $(mib "$size") | $label | $med | $mbs | $rss | $ratio | $(tr ' ' '\n' <<<"${CPU[$key]}" | grep . | median) | ${TIMES[$key]# } |"
		done
	done
	targets "rdbtool verify" 5
	targets "rdbtool dump (jsonl)" 1
	if [ ${#FAILURES[@]} -gt 0 ]; then
		echo
		echo "### Failures"
		echo
		local f
		for f in "${FAILURES[@]}"; do
			echo "- \`$f\`"
		done
	fi
}

report | tee "$DIR/results.md"
log "results written to $DIR/results.md; command output in $LOGS"
if [ "$FAILED" != 0 ]; then
	log "some measured commands failed"
	exit 1
fi
