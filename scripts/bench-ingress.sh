#!/usr/bin/env bash
# Starts the ingress service on an embedded JetStream stored on disk and
# measures accepted webhooks per second and ack latency with the built-in
# load generator: first at a fixed 1,000 requests/s, then as fast as it goes.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-1000}
DURATION=${DURATION:-20s}
PORT=${PORT:-18089}
data=$(mktemp -d)
secret=bench-secret
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
GITHUB_WEBHOOK_SECRET=$secret TELEFONISTKA_DATA_DIR="$data" PORT=$PORT LOG_LEVEL=warn \
	bin/telefonistka server --only ingress 2>"$data/server.log" &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "== fixed rate: $RATE requests/s for $DURATION ($(nproc) cores, load generator on the same machine)"
bin/telefonistka loadgen --url "http://127.0.0.1:$PORT/webhook" --secret $secret --rate "$RATE" --duration "$DURATION"
echo "== maximum throughput: 32 connections for 10s"
bin/telefonistka loadgen --url "http://127.0.0.1:$PORT/webhook" --secret $secret --rate 0 --workers 32 --duration 10s
