#!/usr/bin/env bash
# gate.sh: the tern gate (examples/echo, a Lua echo on services/gate)
# against the plain Go echo (`tern-load echo`: a goroutine per
# connection, the same framing), loaded by cmd/tern-load, in one run.
#
#   bench/gate.sh
#   ROUNDS=1 DURATION=3s bench/gate.sh      a quick try
#
# What it does:
#   1. builds tern and tern-load into a temporary directory;
#   2. for CONNS in 100 and 1000, ROUNDS interleaved rounds of:
#        go:   start `tern-load echo`, load it, stop it;
#        tern: start `tern run examples/echo` (ECHO_LISTEN, ECHO_PROTOCOL),
#              wait until its port accepts, load it, stop it with SIGTERM;
#      each load is `tern-load run -conns CONNS -size SIZE` for DURATION
#      after WARMUP, closed loops (one frame in flight per connection);
#      each result line is printed prefixed by the server's name;
#   3. a summary per CONNS: the medians of rtt_per_sec and p99_us of each
#      side and the ratios tern/go;
#   4. idle memory: each server holds IDLE (10000) connections that send
#      nothing (`tern-load run -idle`); once they are all connected, and
#      SETTLE later (the server may still be accepting the last of its
#      backlog), the server's VmRSS is read from /proc/PID/status and
#      printed as idle10k_rss_mb=..., with its RSS before them (the
#      gate's default max_conn is 10000: more would be refused; tern-load
#      checks at the end of the hold that the server closed none, and
#      prints idle_alive=).
#
# Nothing is pinned: the machine this was written for has 2 cores, and
# the load generator shares them with the server under test. That is
# intended; both servers pay the same tax, and the ratio is the figure to
# read, not the absolute rates. Medians over ROUNDS interleaved rounds
# damp the noise of a shared machine.
#
# Environment:
#   ROUNDS=3          interleaved rounds per CONNS
#   PROTO=line        framing: line, len16, len32 or websocket
#   SIZE=64           frame payload bytes
#   DURATION=10s      measured time of each load
#   WARMUP=1s         unmeasured load before it
#   CONNS_LIST="100 1000"
#   IDLE=10000        connections of the idle test (0: skip it)
#   HOLD=5s           how long the idle connections are held
#   SETTLE=1          seconds between idle_conns and the RSS reading
#   GO_PORT=19998 TERN_PORT=19888   the servers' ports on 127.0.0.1
#
# Result lines and the summary go to stdout, progress to stderr; the
# servers' logs stay in the temporary directory only on failure (its
# path is printed). Exit status 1 when any load reported errors.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
PROTO=${PROTO:-line}
SIZE=${SIZE:-64}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-1s}
CONNS_LIST=${CONNS_LIST:-"100 1000"}
IDLE=${IDLE:-10000}
HOLD=${HOLD:-5s}
SETTLE=${SETTLE:-1}
GO_PORT=${GO_PORT:-19998}
TERN_PORT=${TERN_PORT:-19888}

cd "$(dirname "$0")/.."
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gate-bench.XXXXXX")
SERVER_PID=
LOAD_PID=
FAILED=0

# shellcheck disable=SC2317 # run by the trap
cleanup() {
	local rc=$?
	if [[ -n $LOAD_PID ]]; then kill "$LOAD_PID" 2>/dev/null || true; fi
	if [[ -n $SERVER_PID ]]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
	if [[ $rc -eq 0 && $FAILED -eq 0 ]]; then
		rm -rf "$TMP"
	else
		echo "gate.sh: logs kept in $TMP" >&2
	fi
}
trap cleanup EXIT

log() { echo "gate.sh: $*" >&2; }

# wait_port PORT PID: until 127.0.0.1:PORT accepts, at most 10 s, while
# PID lives.
wait_port() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "server $pid exited before listening on $port"
			return 1
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	log "127.0.0.1:$port still not accepting after 10 s"
	return 1
}

# start_server go|tern: SERVER_PID, listening.
start_server() {
	case $1 in
	go)
		"$TMP/tern-load" echo -addr "127.0.0.1:$GO_PORT" -proto "$PROTO" >>"$TMP/go.log" 2>&1 &
		SERVER_PID=$!
		wait_port "$GO_PORT" "$SERVER_PID"
		;;
	tern)
		ECHO_LISTEN="127.0.0.1:$TERN_PORT" ECHO_PROTOCOL="$PROTO" \
			"$TMP/tern" run examples/echo >>"$TMP/tern.log" 2>&1 &
		SERVER_PID=$!
		wait_port "$TERN_PORT" "$SERVER_PID"
		;;
	esac
}

# stop_server: SIGTERM, then at most 10 s before SIGKILL.
stop_server() {
	local i
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		log "server $SERVER_PID ignored SIGTERM for 10 s: killed"
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		FAILED=1
	fi
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

port_of() { if [[ $1 == go ]]; then echo "$GO_PORT"; else echo "$TERN_PORT"; fi; }

# field KEY: KEY's value in the key=value line on stdin.
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

# median: of the numbers on stdin, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "NaN"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

log "building tern and tern-load into $TMP"
go build -o "$TMP/tern" ./cmd/tern
go build -o "$TMP/tern-load" ./cmd/tern-load

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then commit="$commit+dirty"; fi
echo "# $(go version)"
echo "# arch=$(uname -m) nproc=$(nproc) commit=$commit"
echo "# proto=$PROTO size=$SIZE duration=$DURATION warmup=$WARMUP rounds=$ROUNDS conns=\"$CONNS_LIST\""

RESULTS="$TMP/results"
: >"$RESULTS"
for conns in $CONNS_LIST; do
	for ((round = 1; round <= ROUNDS; round++)); do
		for server in go tern; do
			log "conns=$conns round $round/$ROUNDS: $server"
			start_server "$server"
			if ! line=$("$TMP/tern-load" run -addr "127.0.0.1:$(port_of "$server")" -proto "$PROTO" \
				-conns "$conns" -size "$SIZE" -duration "$DURATION" -warmup "$WARMUP" 2>>"$TMP/load.err"); then
				log "$server: the load reported errors (see $TMP/load.err)"
				FAILED=1
			fi
			stop_server
			echo "$server $line"
			echo "$server $line" >>"$RESULTS"
		done
	done
done

echo "# summary: medians of $ROUNDS rounds; ratio = tern/go"
for conns in $CONNS_LIST; do
	declare -A rate p99
	for server in go tern; do
		rate[$server]=$({ grep "^$server .* conns=$conns " "$RESULTS" || true; } | field rtt_per_sec | median)
		p99[$server]=$({ grep "^$server .* conns=$conns " "$RESULTS" || true; } | field p99_us | median)
	done
	awk -v c="$conns" -v gr="${rate[go]}" -v tr="${rate[tern]}" -v gp="${p99[go]}" -v tp="${p99[tern]}" 'BEGIN {
		printf "summary conns=%d go_rtt_per_sec=%.0f tern_rtt_per_sec=%.0f ratio_rtt_per_sec=%.3f go_p99_us=%.1f tern_p99_us=%.1f ratio_p99=%.3f\n",
			c, gr, tr, (gr > 0 ? tr / gr : 0), gp, tp, (gp > 0 ? tp / gp : 0) }'
	unset rate p99
done

if ((IDLE > 0)); then
	label="idle$((IDLE / 1000))k"
	if [[ $IDLE -lt 1000 ]]; then label="idle$IDLE"; fi
	hard=$(ulimit -Hn)
	if [[ $hard != unlimited ]] && ((hard < IDLE + 100)); then
		log "warning: the hard limit on open files ($hard) is below $IDLE connections"
	fi
	for server in tern go; do
		log "$label: $server"
		start_server "$server"
		before=$(rss_mb "$SERVER_PID")
		# a file of its own, there before the background job starts:
		# its redirection is done in the child, later
		out="$TMP/idle-$server.out"
		: >"$out"
		"$TMP/tern-load" run -addr "127.0.0.1:$(port_of "$server")" -proto "$PROTO" \
			-idle "$IDLE" -hold "$HOLD" >>"$out" 2>>"$TMP/load.err" &
		LOAD_PID=$!
		# idle_conns comes once all are connected: at most the 60 s
		# -connect-timeout of tern-load
		for ((i = 0; i < 1400; i++)); do
			grep -q '^idle_conns=' "$out" && break
			kill -0 "$LOAD_PID" 2>/dev/null || break
			sleep 0.05
		done
		if ! grep -q '^idle_conns=' "$out"; then
			log "$server: tern-load printed no idle_conns"
			FAILED=1
		fi
		sleep "$SETTLE"
		rss=$(rss_mb "$SERVER_PID")
		if ! wait "$LOAD_PID"; then
			log "$server: the idle test reported errors (see $TMP/load.err)"
			FAILED=1
		fi
		LOAD_PID=
		stop_server
		echo "$server ${label}_rss_mb=$rss rss_before_mb=$before $(paste -sd ' ' "$out")"
	done
fi

exit "$FAILED"
