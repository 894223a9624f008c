#!/usr/bin/env bash
# The steps of `make test`, each saying what it checks, and a closing summary.
#
#   scripts/test.sh vet MODULE_DIR...     go vet each module
#   scripts/test.sh unit MODULE_DIR...    go test each module's packages
#   scripts/test.sh record STEP pass|fail WHAT
#   scripts/test.sh summary               what passed and failed, and exit 1 if anything failed
#
# Results are appended to $TALLY (one "STEP pass|fail WHAT" line each) when it
# is set, so `make test` can run every step, print one summary at the end and
# fail if any step did. Without $TALLY a step only prints and sets its exit code.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
root=$(pwd)

record() { # STEP STATUS WHAT
	if [[ -n "${TALLY:-}" ]]; then echo "$1 $2 $3" >>"$TALLY"; fi
}

rel() { echo "${1#"$root"/}"; }

vet() {
	local status=0 m
	for m in "$@"; do
		echo "== go vet $(rel "$m")"
		if (cd "$m" && $GO vet ./...); then record vet pass "$(rel "$m")"; else record vet fail "$(rel "$m")"; status=1; fi
	done
	return $status
}

unit() {
	local status=0 m log line rc
	log=$(mktemp)
	for m in "$@"; do
		echo "== go test $(rel "$m")"
		(cd "$m" && $GO test -count=1 ./...) 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		[[ $rc -eq 0 ]] || status=1
		# One tally line per package: "ok  <pkg> <time>", "FAIL <pkg> <time>",
		# "?   <pkg> [no test files]" (not counted), and a build failure's
		# "FAIL <pkg> [build failed]".
		while IFS= read -r line; do
			case "$line" in
			ok*) record test pass "$(awk '{print $2}' <<<"$line")" ;;
			FAIL$'\t'*) record test fail "$(awk '{print $2}' <<<"$line")" ;;
			esac
		done <"$log"
		if [[ $rc -ne 0 ]] && ! grep -q $'^FAIL\t' "$log"; then
			record test fail "$(rel "$m")" # failed before reporting a package
		fi
	done
	rm -f "$log"
	return $status
}

summary() {
	local tally=${TALLY:?TALLY names the results file}
	[[ -f "$tally" ]] || touch "$tally"
	echo
	echo "== make test summary"
	local passed=0 failed=0 step label p f
	for step in vet test deploy fuzz; do
		case $step in
		vet) label="go vet (modules)" ;;
		test) label="go test (packages)" ;;
		deploy) label="deployment checks" ;;
		fuzz) label="fuzz targets (${FUZZTIME:-10s} each)" ;;
		esac
		p=$(grep -c "^$step pass " "$tally")
		f=$(grep -c "^$step fail " "$tally")
		[[ $((p + f)) -eq 0 ]] && continue
		printf '  %-28s %4d passed, %d failed\n' "$label" "$p" "$f"
		grep "^$step fail " "$tally" | while read -r _ _ what; do echo "      failed: $what"; done
		passed=$((passed + p))
		failed=$((failed + f))
	done
	echo "total: $passed passed, $failed failed"
	[[ $failed -eq 0 && $passed -gt 0 ]]
}

cmd=${1:?usage: scripts/test.sh vet|unit|record|summary ...}
shift
case $cmd in
vet | unit) "$cmd" "$@" ;;
record) record "$@" ;;
summary) summary ;;
*)
	echo "scripts/test.sh: unknown step $cmd" >&2
	exit 2
	;;
esac
