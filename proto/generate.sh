#!/usr/bin/env bash
# Regenerate tern.pb.go from tern.proto with pinned tool versions.
#
# Usage: bash generate.sh [OUT_DIR]
#   OUT_DIR defaults to this directory (proto/). check.sh passes a temp dir.
#
# Pinned tools:
#   protoc         libprotoc 3.21.12 (Debian bookworm package protobuf-compiler)
#   protoc-gen-go  google.golang.org/protobuf/cmd/protoc-gen-go v1.36.12
set -euo pipefail

readonly PROTOC_WANT="libprotoc 3.21.12"
readonly PROTOC_GEN_GO_VERSION="v1.36.12"

cd "$(dirname "${BASH_SOURCE[0]}")"
out_dir="${1:-.}"

if ! command -v protoc >/dev/null 2>&1; then
	echo "generate.sh: protoc not found; need ${PROTOC_WANT}." >&2
	echo "  Install it with: apt-get update && apt-get install -y protobuf-compiler  (Debian 12 ships 3.21.12)" >&2
	exit 1
fi
protoc_have="$(protoc --version)"
if [[ "${protoc_have}" != "${PROTOC_WANT}" ]]; then
	echo "generate.sh: protoc reports '${protoc_have}', need '${PROTOC_WANT}'." >&2
	echo "  Install it with: apt-get update && apt-get install -y protobuf-compiler  (Debian 12 ships 3.21.12)," >&2
	echo "  or put a protoc 3.21.12 binary first on PATH." >&2
	exit 1
fi

gobin="$(mktemp -d)"
trap 'rm -rf "${gobin}"' EXIT

# Module-aware install at an exact version; independent of this repo's go.mod.
GOBIN="${gobin}" GOFLAGS="" GOWORK=off \
	go install "google.golang.org/protobuf/cmd/protoc-gen-go@${PROTOC_GEN_GO_VERSION}"

mkdir -p "${out_dir}"
protoc \
	--plugin=protoc-gen-go="${gobin}/protoc-gen-go" \
	--proto_path=. \
	--go_out="${out_dir}" \
	--go_opt=paths=source_relative \
	tern.proto
