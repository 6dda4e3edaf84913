#!/usr/bin/env bash
# vs-skynet.sh: tern against skynet, side by side, on the same workloads.
#
#   bench/vs-skynet.sh [workload ...]        compare: tern, skynet, tern, skynet, ...
#   bench/vs-skynet.sh scale [workload ...]  tern alone at GOMAXPROCS 1, 2, 4
#
# Workloads (default: all of them, in this order):
#   call     Lua->Lua call, sequential from one coroutine, n=500000
#   call100  the same n from 100 coroutines (tern.fork / skynet.fork) to one service
#   send     Lua->Lua one-way send, 1 sender -> 1 receiver, unbatched, n=1000000
#   spawn    spawn of a minimal service, n=10000; also RSS per idle service at 10k
#   timers   10000 services x 100 chained timeouts of 10 ms (skynet: timeout(1))
#   ring     tern only: 1000 services pass one message round a ring, 1000000 hops
#   ring100  tern only: the same ring with 100 messages going round at once
#
# tern's side is bench/<workload>.lua (bench/call.lua, ...); skynet's is
# bench_main.lua and its services in $SKYNET_BENCH, run through its run.sh.
# Both print "RESULT <bench> key=value ..."; each workload runs RUNS times
# on each side, interleaved, and the table has the medians (and each
# side's spread, (max - min) / 2 / median). skynet is skipped, saying so,
# when SKYNET_ROOT is unset or holds no built ./skynet.
#
# Environment:
#   RUNS=3            runs per side and workload
#   THREADS=2         skynet's worker threads and tern's GOMAXPROCS
#   PROFILE=false     skynet's `profile` option (its default, true, costs it
#                     two clock_gettime per message; the issue's figures use false)
#   SKYNET_ROOT       a built skynet checkout (./skynet, cservice/, lualib/, ...)
#   SKYNET_COMMIT     the commit to name in the table, when SKYNET_ROOT has no .git
#   SKYNET_BENCH      skynet's side of the workloads (default ../shared/bench/skynet
#                     beside this repository)
#   TERN_BIN=/tmp/tern-bench   where `go build ./cmd/tern` puts the binary
#   BUILD=1           0: run the TERN_BIN already there, do not build
#   SCALE_PROCS="1 2 4"   the GOMAXPROCS values of the scale mode
#   QUICK=1           small sizes (about a tenth), to try the script out
#   HOLD_MS=1000      spawn: the pause at each RSS mark, while this script reads
#                     /proc/<pid>/status (tern's Lua has no io to read it itself)
#
# Progress goes to stderr, the table to stdout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
PROFILE=${PROFILE:-false}
SKYNET_BENCH=${SKYNET_BENCH:-$REPO/../shared/bench/skynet}
TERN_BIN=${TERN_BIN:-/tmp/tern-bench}
BUILD=${BUILD:-1}
SCALE_PROCS=${SCALE_PROCS:-1 2 4}
QUICK=${QUICK:-0}
HOLD_MS=${HOLD_MS:-1000}
ALL=(call call100 send spawn timers ring ring100)

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	exit "${1:-0}"
}

log() { printf '%s\n' "$*" >&2; }

mode=compare
if [ "${1:-}" = scale ]; then
	mode=scale
	shift
fi
case "${1:-}" in -h | --help | help) usage 0 ;; esac
if [ $# -eq 0 ]; then
	set -- "${ALL[@]}"
fi
for w in "$@"; do
	case " ${ALL[*]} " in
	*" $w "*) ;;
	*)
		log "vs-skynet.sh: unknown workload \"$w\" (have: ${ALL[*]})"
		exit 64
		;;
	esac
done
case "$RUNS$THREADS$HOLD_MS" in *[!0-9]*)
	log "vs-skynet.sh: RUNS, THREADS and HOLD_MS must be whole numbers"
	exit 64
	;;
esac

# def WORKLOAD sets, for one workload: T_SCRIPT, T_ARG (tern's script and
# options), S_BENCH, S_ARG (skynet's; empty: tern only) and ROWS, the table
# rows it gives: "key|label|unit" (key in the RESULT line; unit s and KiB
# are lower-is-better, the others rates).
def() {
	local q=$QUICK
	S_BENCH='' S_ARG=''
	case $1 in
	call | call100)
		local co=1 label="Lua call, sequential, 1 coroutine"
		if [ "$1" = call100 ]; then co=100 label="Lua call, 100 coroutines -> 1 service"; fi
		T_SCRIPT=call.lua T_ARG="n=$([ "$q" = 1 ] && echo 50000 || echo 500000) co=$co"
		S_BENCH=call
		ROWS=("calls_per_sec|$label|calls/s")
		;;
	send)
		T_SCRIPT=send.lua T_ARG="n=$([ "$q" = 1 ] && echo 100000 || echo 1000000) senders=1"
		S_BENCH=send
		ROWS=("msgs_per_sec|Lua send, 1 -> 1, unbatched|msgs/s")
		;;
	spawn)
		T_SCRIPT=spawn.lua T_ARG="n=$([ "$q" = 1 ] && echo 1000 || echo 10000)"
		S_BENCH=spawn
		ROWS=("spawn_per_sec|spawn of a minimal service|services/s"
			"kb_per_service|RSS per idle service (at n)|KiB")
		;;
	timers)
		T_SCRIPT=timers.lua
		T_ARG=$([ "$q" = 1 ] && echo "services=1000 rounds=20" || echo "services=10000 rounds=100")
		S_BENCH=timer
		ROWS=("sec|timers, services x rounds x 10 ms: time|s")
		;;
	ring | ring100)
		local tokens=1
		if [ "$1" = ring100 ]; then tokens=100; fi
		T_SCRIPT=ring.lua T_ARG="n=1000 hops=$([ "$q" = 1 ] && echo 100000 || echo 1000000) tokens=$tokens"
		local what="1 message"
		if [ "$tokens" != 1 ]; then what="$tokens messages"; fi
		ROWS=("hops_per_sec|ring of 1000 services, $what going round|hops/s")
		;;
	esac
	if [ -n "$S_BENCH" ]; then S_ARG=$T_ARG; fi
	# the options tern gets for spawn: also the pause at the RSS marks
	if [ "$1" = spawn ]; then T_ARG="$T_ARG hold=$HOLD_MS"; fi
	return 0
}

# kv KEY: the value of KEY in the RESULT line on stdin
kv() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) { n = index($i, "="); if (substr($i, 1, n - 1) == k) print substr($i, n + 1) } }'; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

TMP=$(mktemp -d)
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT

# tern_once SCRIPT ARGS PROCS: runs tern once; prints its RESULT line (for
# spawn with the RSS figures appended) or nothing, and says why on stderr.
tern_once() {
	local script=$1 args=$2 procs=$3 fifo="$TMP/fifo" out="$TMP/tern.log"
	local pid line result='' rss0='' rss1='' rc=0 deadline=$((SECONDS + 600)) left
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$out"
	GOMAXPROCS=$procs BENCH_ARG=$args "$TERN_BIN" run "$HERE/$script" 2>"$fifo" >/dev/null &
	pid=$!
	# the log arrives line by line: read VmRSS the moment a mark shows
	exec {fd}<"$fifo"
	while left=$((deadline - SECONDS)) && [ "$left" -gt 0 ] && IFS= read -r -t "$left" -u "$fd" line; do
		printf '%s\n' "$line" >>"$out"
		case $line in
		*"MARK rss_before"*) rss0=$(rss_kb "$pid") ;;
		*"MARK rss_after"*) rss1=$(rss_kb "$pid") ;;
		*'msg="RESULT '*) result=$(printf '%s\n' "$line" | grep -o 'RESULT [^"]*') ;;
		esac
	done
	if [ "$SECONDS" -ge "$deadline" ] && kill -0 "$pid" 2>/dev/null; then
		log "  tern $script: no end after 600 s, stopping it"
		kill -TERM "$pid" 2>/dev/null || true
	fi
	exec {fd}<&-
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ] || [ -z "$result" ]; then
		log "  tern $script \"$args\" GOMAXPROCS=$procs failed (exit $rc); its log ends:"
		grep -v 'may overload' "$out" | tail -n 5 | sed 's/^/    /' >&2 || true
		return 0
	fi
	if [ -n "$rss0" ] && [ -n "$rss1" ]; then
		local n
		n=$(printf '%s\n' "$result" | kv n)
		result="$result rss_before_kb=$rss0 rss_after_kb=$rss1 kb_per_service=$(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN { printf "%.3f", (b - a) / n }')"
	fi
	printf '%s\n' "$result"
}

# skynet_once BENCH ARGS: runs skynet once through its run.sh
skynet_once() {
	local out
	out=$(SKYNET_ROOT=$SKYNET_ROOT RUNS=1 "$SKYNET_BENCH/run.sh" "$1" "$THREADS" "$PROFILE" "$2" 2>&1) || true
	if ! printf '%s\n' "$out" | grep -m1 '^RESULT '; then
		log "  skynet $1 \"$2\" failed; its output ends:"
		printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /' >&2
	fi
}

# Collected values: VALS["workload|side|key"] = "v1 v2 ...".
declare -A VALS=()
record() { # record WORKLOAD SIDE RESULT-LINE
	local row key
	[ -n "$3" ] || return 0
	for row in "${ROWS[@]}"; do
		key=${row%%|*}
		local v
		v=$(printf '%s\n' "$3" | kv "$key")
		if [ -n "$v" ]; then VALS["$1|$2|$key"]+="$v "; fi
	done
}

# stat "v1 v2 ...": "median spread%" (the lower middle value, as run.sh takes)
stat() {
	# shellcheck disable=SC2086 # split the list
	printf '%s\n' $1 | sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) exit
		m = a[int((NR + 1) / 2)]
		printf "%s %.0f\n", m, (m != 0 ? (a[NR] - a[1]) / 2 / m * 100 : 0) }'
}

# cell UNIT "v1 v2 ...": a table cell, "median ±spread%", or "—"
cell() {
	local s=''
	if [ -n "${2// /}" ]; then s=$(stat "$2"); fi
	if [ -z "$s" ]; then
		printf '—'
		return
	fi
	# shellcheck disable=SC2086 # split "median spread"
	set -- "$1" $s
	case $1 in
	s) printf '%.2f s ±%s%%' "$2" "$3" ;;
	KiB) printf '%.1f KiB ±%s%%' "$2" "$3" ;;
	*) printf '%.0f ±%s%%' "$2" "$3" ;;
	esac
}

med() { stat "$1" | cut -d' ' -f1; }

ratio() { # ratio A B: A/B with 2 decimals, or —
	if [ -n "$1" ] && [ -n "$2" ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "—"; else printf "%.2f×\n", a / b }'
	else
		printf '—'
	fi
}

# ---------------------------------------------------------------- setup
if [ "$BUILD" != 0 ]; then
	log "building tern: go build -o $TERN_BIN ./cmd/tern"
	if ! (cd "$REPO" && go build -o "$TERN_BIN" ./cmd/tern); then
		log "vs-skynet.sh: go build failed; BUILD=0 TERN_BIN=<binary> runs a binary built elsewhere"
		exit 1
	fi
	TERN_DESC="$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?') (built from the working tree)"
else
	TERN_DESC="$TERN_BIN (prebuilt, BUILD=0)"
fi
if [ ! -x "$TERN_BIN" ]; then
	log "vs-skynet.sh: no tern binary at $TERN_BIN"
	exit 1
fi

SKYNET=0 SKIPPED=''
if [ "$mode" = compare ]; then
	if [ -z "${SKYNET_ROOT:-}" ]; then
		SKIPPED="skipped, SKYNET_ROOT is not set"
	elif [ ! -x "$SKYNET_ROOT/skynet" ]; then
		SKIPPED="skipped, no built binary at $SKYNET_ROOT/skynet"
	elif [ ! -x "$SKYNET_BENCH/run.sh" ]; then
		SKIPPED="skipped, no $SKYNET_BENCH/run.sh (set SKYNET_BENCH)"
	else
		SKYNET=1
		SKYNET_DESC="$SKYNET_ROOT, commit ${SKYNET_COMMIT:-$(git -C "$SKYNET_ROOT" rev-parse --short HEAD 2>/dev/null || echo 'unknown (not a git checkout: set SKYNET_COMMIT)')}"
	fi
fi
if [ -n "$SKIPPED" ]; then log "skynet: $SKIPPED: tern alone"; fi
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')

# ---------------------------------------------------------------- runs
for w in "$@"; do
	def "$w"
	for r in $(seq "$RUNS"); do
		if [ "$mode" = scale ]; then
			for p in $SCALE_PROCS; do
				log "[$w run $r/$RUNS] tern GOMAXPROCS=$p: $T_SCRIPT $T_ARG"
				res=$(tern_once "$T_SCRIPT" "$T_ARG" "$p")
				log "  ${res:-no result}"
				record "$w" "p$p" "$res"
				sleep 1
			done
			continue
		fi
		log "[$w run $r/$RUNS] tern: $T_SCRIPT $T_ARG"
		res=$(tern_once "$T_SCRIPT" "$T_ARG" "$THREADS")
		log "  ${res:-no result}"
		record "$w" tern "$res"
		sleep 1 # as skynet's run.sh does after each run
		if [ "$SKYNET" = 1 ] && [ -n "$S_BENCH" ]; then
			log "[$w run $r/$RUNS] skynet: $S_BENCH $S_ARG"
			res=$(skynet_once "$S_BENCH" "$S_ARG")
			log "  ${res:-no result}"
			record "$w" skynet "$res"
		fi
	done
done

# ---------------------------------------------------------------- table
echo
echo "$START; $(nproc) CPUs, load average $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "tern: $TERN_DESC"
if [ "$mode" = compare ]; then
	if [ "$SKYNET" = 1 ]; then
		echo "skynet: $SKYNET_DESC, profile=$PROFILE"
	else
		echo "skynet: $SKIPPED"
	fi
	echo "THREADS=$THREADS (skynet thread, tern GOMAXPROCS), RUNS=$RUNS interleaved; medians ± half the range"
	echo
	echo "| workload | skynet | tern | tern / skynet |"
	echo "|---|---|---|---|"
else
	echo "GOMAXPROCS scaling, RUNS=$RUNS interleaved over GOMAXPROCS; medians ± half the range"
	echo
	hdr="| workload |" sep="|---|"
	for p in $SCALE_PROCS; do
		hdr="$hdr GOMAXPROCS=$p |"
		sep="$sep---|"
	done
	# shellcheck disable=SC2086 # split the list
	set -- $SCALE_PROCS
	first=$1
	last=${*: -1}
	echo "$hdr $last / $first |"
	echo "$sep---|"
fi
for w in "${ALL[@]}"; do
	def "$w"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r key label unit <<<"$row"
		any=0
		for k in "${!VALS[@]}"; do
			case $k in "$w|"*"|$key") any=1 ;; esac
		done
		[ "$any" = 1 ] || continue
		name="$label ($unit)"
		if [ "$mode" = compare ]; then
			t=${VALS["$w|tern|$key"]:-}
			s=${VALS["$w|skynet|$key"]:-}
			note=''
			case $unit in s | KiB) note=' (lower is better)' ;; esac
			echo "| $name | $(cell "$unit" "$s") | $(cell "$unit" "$t") | $(ratio "$(med "$t")" "$(med "$s")")$note |"
		else
			line="| $name |"
			for p in $SCALE_PROCS; do
				line="$line $(cell "$unit" "${VALS["$w|p$p|$key"]:-}") |"
			done
			echo "$line $(ratio "$(med "${VALS["$w|p$last|$key"]:-}")" "$(med "${VALS["$w|p$first|$key"]:-}")") |"
		fi
	done
done
