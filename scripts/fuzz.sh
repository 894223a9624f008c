#!/usr/bin/env bash
# Runs every fuzz target of the repository for $FUZZTIME (default 10s) each.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
status=0
while IFS= read -r file; do
	dir=$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
		echo "== fuzz $dir $target ($FUZZTIME)"
		if (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" . >/tmp/fuzz-$$.log 2>&1); then
			scripts/test.sh record fuzz pass "$dir $target"
		else
			tail -30 /tmp/fuzz-$$.log
			scripts/test.sh record fuzz fail "$dir $target"
			status=1
		fi
	done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' pkg services cmd e2e 2>/dev/null | sort)
rm -f /tmp/fuzz-$$.log
exit $status
