#!/usr/bin/env bash
# Measures accepted webhooks per second and ack latency with the built-in
# load generator, on an embedded JetStream stored on disk:
#   1. `server --only ingress`: 1,000 requests/s, then as fast as it goes;
#   2. the all-in-one `server` with every consumer running (fan-out reads
#      telefonistka.yaml from the GitHub emulator for each push): 1,000
#      requests/s. Set CASES=ingress or CASES=all to run one of them.
# Each fixed-rate run follows a WARMUP at the same rate (a fresh process
# spends its first seconds growing its heap and JetStream's block caches,
# which no long-running server does), and reports the load average around
# it (the machine may be shared) and the server's CPU time per 1,000
# webhooks.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-1000}
DURATION=${DURATION:-20s} # in seconds
WARMUP=${WARMUP:-15s}
case $DURATION in *[0-9]s) ;; *) echo "DURATION must be in seconds, like 20s" >&2; exit 2 ;; esac
PORT=${PORT:-18089}
GH_PORT=${GH_PORT:-19089}
CASES=${CASES:-"ingress all"}
secret=bench-secret
token=bench-token
pids=()
dirs=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for d in "${dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

wait_ready() {
	for _ in $(seq 200); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done
	echo "not ready: $1" >&2
	return 1
}

# start_server DATA_DIR [server flags...]: telefonistka server in the background.
start_server() {
	local data=$1
	shift
	GITHUB_WEBHOOK_SECRET=$secret TELEFONISTKA_DATA_DIR="$data" PORT=$PORT LOG_LEVEL=warn \
		GITHUB_URL="http://127.0.0.1:$GH_PORT/api/v3/" GITHUB_OAUTH_TOKEN=$token \
		bin/telefonistka server "$@" 2>"$data/server.log" &
	server_pid=$!
	pids+=("$server_pid")
	wait_ready "http://127.0.0.1:$PORT/readyz"
}

stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
}

load() {
	bin/telefonistka loadgen --url "http://127.0.0.1:$PORT/webhook" --secret $secret "$@"
}

# cpu_ticks: user + system clock ticks the server has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }

# fixed_rate LABEL: warm-up, then the measured run at RATE.
fixed_rate() {
	load --rate "$RATE" --duration "$WARMUP" >/dev/null
	echo "== $1, fixed rate: $RATE requests/s for $DURATION after $WARMUP of warm-up ($(nproc) cores, load generator on the same machine)"
	local before after t0 t1
	before=$(cut -d' ' -f1-3 /proc/loadavg)
	t0=$(cpu_ticks)
	load --rate "$RATE" --duration "$DURATION"
	t1=$(cpu_ticks)
	after=$(cut -d' ' -f1-3 /proc/loadavg)
	awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v r="$RATE" -v d="${DURATION%s}" \
		'BEGIN { printf "server CPU %.0f ms per 1,000 webhooks\n", t / hz * 1000 / (r * d / 1000) }'
	echo "load average before: $before, after: $after"
}

for c in $CASES; do
	data=$(mktemp -d)
	dirs+=("$data")
	case $c in
	ingress)
		start_server "$data" --only ingress
		fixed_rate "server --only ingress"
		echo "== server --only ingress, maximum throughput: 32 connections for 10s"
		load --rate 0 --workers 32 --duration 10s
		;;
	all)
		# The pushes are to acme/gitops: fan-out reads its telefonistka.yaml
		# at the pushed commit from the emulator, as it would from GitHub.
		bin/telefonistka github-emulator --listen "127.0.0.1:$GH_PORT" --repo acme/gitops=examples/gitops-repo \
			--token "$token=telefonistka-bot" 2>"$data/emulator.log" &
		pids+=("$!")
		wait_ready "http://127.0.0.1:$GH_PORT/_emulator/healthz"
		start_server "$data"
		fixed_rate "server (every service, GitHub emulator on the same machine)"
		;;
	*)
		echo "unknown case $c (want ingress or all)" >&2
		exit 2
		;;
	esac
	stop_server
done
