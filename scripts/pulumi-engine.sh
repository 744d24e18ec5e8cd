#!/usr/bin/env bash
# Build the real Pulumi CLI from the Go module proxy, outside git, write the two small plugin scripts
# the engine tests need beside it, and print the environment that puts it first on PATH.
#
#   eval "$(scripts/pulumi-engine.sh)"   build if needed, then export PATH and the offline settings
#   PULUMI_ENGINE_VERSION=3.274.1        the pinned CLI version (default below); .ci/run also builds the floor, 3.139.0
#   PULUMI_ENGINE_DIR=/path              where to build (default: ${XDG_CACHE_HOME:-~/.cache}/ncr-provider/pulumi-engine);
#                                        give each other version its own folder, so the pinned one stays cached
#
# Idempotent and fast when cached: a binary whose `pulumi version` answers the right version is reused, and
# the default folder lives outside the checkout, so a fresh clone (CI) finds the binary already built. Go's own
# module and build caches (GOMODCACHE, GOCACHE) are outside the repo too, so even a rebuild in a new
# folder only re-links. Progress goes to stderr; stdout carries only the environment.
#
# What gets built, and what not: the CLI (`pulumi`) only. Pulumi's Python language host
# (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) is probed, but the Go module
# proxy refuses it ("403 Forbidden: This module version is not available"), so the engine tests run
# Automation API inline programs, whose language runtime is the test's own Python process: they need
# just the CLI, `pulumi-resource-pulumi-python` (dynamic providers) and `pulumi-analyzer-policy-python`
# (policy packs, launched as an executable pack: see write_shims), both written here.
set -euo pipefail

VERSION="${PULUMI_ENGINE_VERSION:-3.274.1}"
DIR="${PULUMI_ENGINE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ncr-provider/pulumi-engine}"
BIN="$DIR/bin"
SRC="$DIR/src-$VERSION"
LANGUAGE_HOST_MODULE="github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3"

say() { printf 'pulumi-engine: %s\n' "$*" >&2; }
die() { printf 'pulumi-engine: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not on PATH: install Go 1.26 or newer to build the Pulumi CLI (or install the Pulumi CLI normally) to run the engine tests."

build_cli() {
    mkdir -p "$BIN" "$SRC"
    say "building Pulumi CLI v$VERSION from the Go module proxy into $BIN (a cold build takes 10-25 minutes on 2 cores; cached, under a minute)"
    cd "$SRC"
    if [ ! -f go.mod ]; then
        cat > go.mod <<GOMOD
module ncr-provider.local/pulumi-engine

go 1.26
GOMOD
        cat > tools.go <<GOTOOLS
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GOTOOLS
    fi
    copy_replaces
    say "resolving modules (github.com/pulumi/pulumi/pkg/v3@v$VERSION and sdk/v3@v$VERSION, about 290 modules)"
    go get "github.com/pulumi/pulumi/pkg/v3@v$VERSION" "github.com/pulumi/pulumi/sdk/v3@v$VERSION" >&2 \
        || die "could not resolve github.com/pulumi/pulumi/pkg/v3@v$VERSION: is the Go module proxy reachable (GOPROXY=$(go env GOPROXY))?"
    go mod tidy >&2 || die "go mod tidy failed for the Pulumi CLI wrapper module in $SRC"
    say "compiling pulumi (go build -v lists each package as it finishes)"
    # The version stamp matters: without it `pulumi version` prints nothing and the Automation API refuses the CLI.
    # The variable moved from pkg/v3/version (v3.139.0) to sdk/v3/go/common/version (v3.274.1); the linker ignores
    # an -X for a package the program does not contain, so stamping both serves either.
    local ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION"
    ldflags="$ldflags -X github.com/pulumi/pulumi/pkg/v3/version.Version=v$VERSION"
    CGO_ENABLED=0 go build -v -trimpath -ldflags "$ldflags" -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2 \
        || die "go build of github.com/pulumi/pulumi/pkg/v3/cmd/pulumi v$VERSION failed (see the compiler output above)"
    [ "$("$BIN/pulumi.tmp" version 2>/dev/null)" = "v$VERSION" ] \
        || die "the built CLI does not answer \`pulumi version\` with v$VERSION (the -X version stamp missed): kept as $BIN/pulumi.tmp"
    mv "$BIN/pulumi.tmp" "$BIN/pulumi"
    probe_language_host
}

copy_replaces() {
    # pkg's own go.mod replaces sdk with a local folder (../sdk) and some dependencies with forks or pinned
    # versions (v3.274.1: atotto/clipboard; v3.139.0 also sergi/go-diff and xanzy/ssh-agent). A module that
    # depends on pkg must repeat the non-local replaces to build the same program: read them from pkg's go.mod
    # at $VERSION (as the proxy serves it) and copy each one into the wrapper.
    local answer pkg_mod line old new
    answer="$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$VERSION" 2>&1)" || true
    pkg_mod="$(printf '%s\n' "$answer" | sed -n 's/.*"GoMod": *"\([^"]*\)".*/\1/p' | head -n 1)"
    [ -n "$pkg_mod" ] && [ -f "$pkg_mod" ] || die "the Go module proxy does not serve github.com/pulumi/pulumi/pkg/v3@v$VERSION" \
        "(GOPROXY=$(go env GOPROXY)): $(printf '%s\n' "$answer" | sed -n 's/.*"Error": *"\(.*\)".*/\1/p' | head -n 1)"
    # One "OLD [VERSION] => NEW VERSION" per line, from both `replace a => b v` and `replace ( ... )` forms;
    # a replacement without a version is a local folder and is left out.
    while IFS= read -r line; do
        old="${line%%=>*}"; new="${line#*=>}"
        read -r -a old <<<"$old"; read -r -a new <<<"$new"
        [ "${#new[@]}" -eq 2 ] || continue
        say "replace ${old[*]} => ${new[*]} (from pkg/v3@v$VERSION's go.mod)"
        go mod edit -replace "${old[0]}${old[1]:+@${old[1]}}=${new[0]}@${new[1]}"
    done < <(sed -e 's://.*$::' "$pkg_mod" | awk '
        /^replace[ \t]*\(/ { block = 1; next }
        block && /^\)/     { block = 0; next }
        block && /=>/      { print; next }
        /^replace[ \t].*=>/ { sub(/^replace[ \t]+/, ""); print }')
}

probe_language_host() {
    # The host has no tags of its own: ask for pkg/v3's release commit when the proxy names it (a warm module
    # cache does not), else for @latest. The answer is recorded, so later runs just report it.
    local query answer
    query="$(cd "$SRC" && GOFLAGS=-modcacherw go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$VERSION" 2>/dev/null \
        | sed -n 's/.*"Hash": *"\([0-9a-f]\{12\}\).*/\1/p' | head -n 1)"
    query="${query:-latest}"
    if answer="$(cd "$SRC" && go mod download -json "$LANGUAGE_HOST_MODULE@$query" 2>&1)"; then
        answer="resolves ($LANGUAGE_HOST_MODULE@$query) but is not built: the engine tests use inline programs"
    else
        answer="$(printf '%s' "$answer" | sed -n 's/.*"Error": *".*: \([^:]*\)\\n.*server response: \(.*\)".*/\1: \2/p' | head -n 1)"
        answer="not available: the Go module proxy refuses $LANGUAGE_HOST_MODULE@$query (${answer:-no answer}); the engine tests use Automation API inline programs"
    fi
    printf '%s\n' "$answer" > "$BIN/.language-host"
}

write_shims() {
    # The engine starts a Python dynamic provider as the plugin `pulumi-resource-pulumi-python`, found next
    # to `pulumi` or on PATH. Inline programs leave PULUMI_RUNTIME_VIRTUALENV unset: PULUMI_PYTHON_CMD picks it then.
    cat > "$BIN/pulumi-resource-pulumi-python" <<'SHIM'
#!/bin/sh
# Written by ncr-provider's scripts/pulumi-engine.sh: the Python dynamic provider server, in the chosen Python.
if [ -n "${PULUMI_RUNTIME_VIRTUALENV:-}" ]; then PYTHON="$PULUMI_RUNTIME_VIRTUALENV/bin/python"
else PYTHON="${PULUMI_PYTHON_CMD:-python3}"; fi
exec "$PYTHON" -u -m pulumi.dynamic "$@"
SHIM
    # A policy pack without a Python language host. CLI 3.274 runs `--policy-pack PATH` through the language
    # host when PATH is a folder, and launches PATH itself with the engine address when it is an executable
    # file: link this script into a folder beside the pack's files (tests/engine does) and it serves the pack
    # of that folder. Older CLIs call `pulumi-analyzer-policy-python <engine address> <pack dir> [-opt=value ...]`
    # from PATH; pulumi.policy wants those two arguments only.
    cat > "$BIN/pulumi-analyzer-policy-python" <<'SHIM'
#!/bin/sh
# Written by ncr-provider's scripts/pulumi-engine.sh: a Python policy pack's analyzer, in the chosen Python.
if [ -n "${PULUMI_RUNTIME_VIRTUALENV:-}" ]; then PYTHON="$PULUMI_RUNTIME_VIRTUALENV/bin/python"
else PYTHON="${PULUMI_PYTHON_CMD:-python3}"; fi
if [ "$#" -eq 1 ]; then set -- "$1" "$(dirname "$0")"; fi
for arg in "$@"; do
    shift
    case "$arg" in --*) set -- "$@" "$arg" ;; -*=*) ;; *) set -- "$@" "$arg" ;; esac
done
exec "$PYTHON" -u -m pulumi.policy "$@"
SHIM
    chmod +x "$BIN/pulumi-resource-pulumi-python" "$BIN/pulumi-analyzer-policy-python"
}

if [ -x "$BIN/pulumi" ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "v$VERSION" ]; then
    say "Pulumi CLI v$VERSION already built in $BIN"
else
    build_cli
fi
write_shims
[ -f "$BIN/.language-host" ] || probe_language_host
say "Python language host: $(cat "$BIN/.language-host")"
say "ready: $("$BIN/pulumi" version) in $BIN"

# stdout: the environment for the engine tests (and for trying the CLI by hand; add a backend and a passphrase,
# e.g. PULUMI_BACKEND_URL=file://~/.pulumi-local PULUMI_CONFIG_PASSPHRASE=...).
printf 'export PATH=%q:"$PATH"\n' "$BIN"
printf 'export NCR_PULUMI_ENGINE_BIN=%q\n' "$BIN"
printf 'export PULUMI_SKIP_UPDATE_CHECK=true\n'
printf 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true\n'
