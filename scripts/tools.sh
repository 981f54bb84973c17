#!/usr/bin/env bash
# Installs the registry clients that the end-to-end tests drive, idempotently.
#
# Go clients are built once per pinned version into a cache outside the
# checkout (CI clones afresh, the cache survives), then symlinked into the
# project's bin/. skopeo and docker-registry (CNCF Distribution, which the import
# tests start as an external registry) come from Debian and are installed only
# when absent.
# Safe to run with no stdin and CI=true; prints one line per tool.
set -euo pipefail

CRANE_VERSION=v0.22.1
ORAS_VERSION=v1.3.6
REGCTL_VERSION=v0.11.7

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir="$repo_root/bin"
cache_root="${BERTH_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth}"

die() {
	echo "tools.sh: $*" >&2
	exit 1
}

command -v go >/dev/null 2>&1 || die "go is not on PATH; install Go first"
mkdir -p "$bin_dir" "$cache_root"

# Two concurrent runs (say, make test in two terminals) must not build into
# the same directory at once.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache_root/.tools.lock"
	flock 9
fi

# go_tool NAME VERSION PACKAGE builds PACKAGE@VERSION into
# $cache_root/NAME-VERSION/bin unless it is already there.
go_tool() {
	local name=$1 version=$2 pkg=$3
	local dir="$cache_root/$name-$version"
	local target="$dir/bin/$name"
	local how=cached
	if [[ ! -x "$target" ]]; then
		how=built
		local tmp="$dir/bin.tmp.$$"
		rm -rf "$tmp"
		mkdir -p "$tmp"
		local start=$SECONDS
		# Build into a scratch GOBIN and rename, so an interrupted build never
		# leaves something that looks like a finished install.
		if ! (cd "$dir" && GOBIN="$tmp" GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
			go install "$pkg@$version") </dev/null; then
			rm -rf "$tmp"
			die "go install $pkg@$version failed"
		fi
		rm -rf "$dir/bin"
		mv "$tmp" "$dir/bin"
		how="built in $((SECONDS - start))s"
	fi
	ln -sfn "$target" "$bin_dir/$name"
	printf '%-7s %-9s %s (%s)\n' "$name" "$version" "$bin_dir/$name" "$how"
}

# shellcheck source=lib.sh
source "$repo_root/scripts/lib.sh"

# debian_tool NAME PACKAGE links NAME into bin/, installing the Debian
# PACKAGE first when NAME is not on PATH (docker-registry: CNCF
# Distribution, the external registry the import tests read from; the
# package's service is not started, the tests run their own).
debian_tool() {
	local name=$1 pkg=$2 how=present
	if ! command -v "$name" >/dev/null 2>&1; then
		debian_packages "$pkg"
		how=installed
	fi
	local path version
	path=$(command -v "$name")
	version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null | sed 's/[+-].*//')
	ln -sfn "$path" "$bin_dir/$name"
	printf '%-7s %-9s %s (%s)\n' "$name" "v${version:-unknown}" "$bin_dir/$name" "$how"
}

go_tool crane "$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane
go_tool oras "$ORAS_VERSION" oras.land/oras/cmd/oras
go_tool regctl "$REGCTL_VERSION" github.com/regclient/regclient/cmd/regctl
debian_tool skopeo skopeo
debian_tool docker-registry docker-registry
