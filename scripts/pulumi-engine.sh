#!/usr/bin/env bash
# Build the real Pulumi CLI (and, when it resolves, the Python language host) from the Go module
# proxy into .pulumi-engine/bin, outside git, then print the environment the engine tests use.
#
#   scripts/pulumi-engine.sh            build if needed, print `export ...` lines on stdout
#   PULUMI_ENGINE_VERSION=3.274.1       the pinned CLI version (default below)
#   PULUMI_ENGINE_DIR=/path             where to build (default: <repo>/.pulumi-engine)
#
# Idempotent: a stamped binary of the right version is reused, and Go's module and build caches
# (GOMODCACHE, GOCACHE) live outside the repo, so a rebuild after a clean clone takes seconds to
# a minute. Progress goes to stderr; stdout carries only the environment, so
# `eval "$(scripts/pulumi-engine.sh)"` works.
set -euo pipefail

VERSION="${PULUMI_ENGINE_VERSION:-3.274.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${PULUMI_ENGINE_DIR:-$ROOT/.pulumi-engine}"
BIN="$DIR/bin"
SRC="$DIR/src-$VERSION"
STAMP="$BIN/.stamp"

say() { printf 'pulumi-engine: %s\n' "$*" >&2; }
die() { printf 'pulumi-engine: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not on PATH: install Go 1.26 or newer (or install the Pulumi CLI normally) to run the engine tests."

build() {
    mkdir -p "$BIN" "$SRC"
    say "building Pulumi CLI v$VERSION from the Go module proxy into $BIN (a cold build takes 10-25 minutes on 2 cores)"
    cd "$SRC"
    if [ ! -f go.mod ]; then
        cat > go.mod <<GOMOD
module ncr-provider.local/pulumi-engine

go 1.26

// pkg's own go.mod replaces sdk with a local folder and clipboard with a fork; a module that
// depends on pkg must repeat the non-local replace to build the same program.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
GOMOD
        cat > tools.go <<GOTOOLS
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GOTOOLS
    fi
    say "resolving modules (github.com/pulumi/pulumi/pkg/v3@v$VERSION and sdk/v3@v$VERSION)"
    go get "github.com/pulumi/pulumi/pkg/v3@v$VERSION" "github.com/pulumi/pulumi/sdk/v3@v$VERSION" >&2 \
        || die "could not resolve github.com/pulumi/pulumi/pkg/v3@v$VERSION: is the Go module proxy reachable (GOPROXY=$(go env GOPROXY))?"
    go mod tidy >&2 || die "go mod tidy failed for the Pulumi CLI wrapper module in $SRC"
    say "compiling pulumi (progress: go build -v lists packages as they finish)"
    local ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION"
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2 \
        || die "go build of github.com/pulumi/pulumi/pkg/v3/cmd/pulumi v$VERSION failed (see the compiler output above)"
    mv "$BIN/pulumi.tmp" "$BIN/pulumi"
    printf '%s\n' "$VERSION" > "$STAMP"
}

if [ -x "$BIN/pulumi" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
    say "Pulumi CLI v$VERSION already built in $BIN"
else
    build
fi
