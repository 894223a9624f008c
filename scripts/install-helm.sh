#!/usr/bin/env bash
# Installs helm $1 (default v3.21.4) into $(go env GOPATH)/bin unless that
# version is already there. The chart tests (make test-deploy) use it.
set -euo pipefail
want=${1:-v3.21.4}
bin="$(go env GOPATH)/bin/helm"
# go install leaves helm's own version string short (v3.21), so read the
# module version from the binary's build information.
if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+helm.sh/helm/v3[[:space:]]+$want[[:space:]]"; then
	exit 0
fi
echo "installing helm $want into $(dirname "$bin")"
go install "helm.sh/helm/v3/cmd/helm@$want"
