#!/usr/bin/env bash
# Verify that the committed tern.pb.go matches what generate.sh produces from
# tern.proto. Exits 1 (with a diff) if it is stale. Intended for CI.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

bash generate.sh "${tmp}"

if ! diff -u tern.pb.go "${tmp}/tern.pb.go"; then
	echo "check.sh: proto/tern.pb.go is out of date with proto/tern.proto; run 'go generate ./proto/' and commit the result." >&2
	exit 1
fi
echo "check.sh: proto/tern.pb.go is up to date."
