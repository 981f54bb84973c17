#!/usr/bin/env bash
# Installs the build engine that berth's agents drive, idempotently.
#
# From Debian (only when missing): runc (the container runtime BuildKit's
# runc worker calls), containernetworking-plugins (the CNI `loopback` plugin
# in /usr/lib/cni, which gives each RUN step a network namespace of its own)
# and busybox-static (the /bin/busybox that tests and the agent turn into a
# base image without any registry).
#
# BuildKit's buildkitd and buildctl are built from source once per pinned
# version into a cache outside the checkout, then symlinked into the
# project's bin/. `go install` refuses BuildKit's module (its go.mod has
# exclude directives), so the module is downloaded, copied somewhere
# writable and built there.
#
# No CNI configuration is installed system-wide: internal/buildengine writes
# a loopback-only one under its state directory each time it starts buildkitd.
#
# Safe to run with no stdin and CI=true; prints one line per tool.
set -euo pipefail

BUILDKIT_VERSION=v0.34.2
BUILDKIT_MODULE=github.com/moby/buildkit

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir="$repo_root/bin"
cache_root="${BERTH_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth}"

die() {
	echo "engine.sh: $*" >&2
	exit 1
}

[[ $(uname -s) == Linux ]] || die "the build engine needs Linux (runc and network namespaces)"
command -v go >/dev/null 2>&1 || die "go is not on PATH; install Go first"
mkdir -p "$bin_dir" "$cache_root"

# Two concurrent runs must not build into the same directory at once.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache_root/.engine.lock"
	flock 9
fi

# shellcheck source=lib.sh
source "$repo_root/scripts/lib.sh"

# buildkit builds buildkitd and buildctl into $cache_root/buildkit-VERSION/bin
# unless that directory is already there. Everything is built under a scratch
# directory that is renamed into place last, so an interrupted build never
# leaves something that looks like a finished install.
buildkit() {
	local dir="$cache_root/buildkit-$BUILDKIT_VERSION"
	local how=cached
	if [[ ! -x "$dir/bin/buildkitd" || ! -x "$dir/bin/buildctl" ]]; then
		local start=$SECONDS
		local tmp="$cache_root/.buildkit-$BUILDKIT_VERSION.tmp.$$"
		# Scratch left by a run that was killed outright; the lock says no
		# other run is using one.
		rm -rf "$cache_root/.buildkit-$BUILDKIT_VERSION.tmp."*
		mkdir -p "$tmp/bin"
		trap 'rm -rf "$tmp"' EXIT
		local src
		src=$(cd "$tmp" && go mod download -json "$BUILDKIT_MODULE@$BUILDKIT_VERSION" </dev/null |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || true
		[[ -n "$src" && -d "$src" ]] || die "go mod download $BUILDKIT_MODULE@$BUILDKIT_VERSION failed"
		# The module cache is read-only; build in a writable copy.
		cp -R "$src" "$tmp/src"
		chmod -R u+w "$tmp/src"
		local ldflags="-s -w -X $BUILDKIT_MODULE/version.Version=$BUILDKIT_VERSION -X $BUILDKIT_MODULE/version.Package=$BUILDKIT_MODULE"
		echo "buildkit  $BUILDKIT_VERSION building buildkitd and buildctl (a few minutes the first time)"
		# The module zip carries no vendor/ tree: -mod=mod lets go fetch the
		# dependencies through the module proxy and note them as it goes.
		if ! (cd "$tmp/src" && CGO_ENABLED=0 GOFLAGS='-mod=mod -buildvcs=false' \
			go build -trimpath -ldflags "$ldflags" -o "$tmp/bin/" ./cmd/buildkitd ./cmd/buildctl) \
			</dev/null >"$tmp/build.log" 2>&1; then
			tail -n 40 "$tmp/build.log" >&2
			die "go build of $BUILDKIT_MODULE@$BUILDKIT_VERSION failed"
		fi
		rm -f "$tmp/build.log"
		rm -rf "$tmp/src"
		rm -rf "$dir"
		mv "$tmp" "$dir"
		trap - EXIT
		how="built in $((SECONDS - start))s"
	fi
	local name
	for name in buildkitd buildctl; do
		ln -sfn "$dir/bin/$name" "$bin_dir/$name"
		printf '%-9s %-10s %s (%s)\n' "$name" "$BUILDKIT_VERSION" "$bin_dir/$name" "$how"
	done
}

# debian_tool NAME PATH VERSION-COMMAND... links PATH into bin/ and prints it.
debian_tool() {
	local name=$1 path=$2
	shift 2
	[[ -x "$path" ]] || die "$path is missing after installing its Debian package"
	local version
	version=$("$@" 2>/dev/null | head -n1) || true
	ln -sfn "$path" "$bin_dir/$name"
	printf '%-9s %-10s %s (-> %s)\n' "$name" "${version:-unknown}" "$bin_dir/$name" "$path"
}

debian_packages runc containernetworking-plugins busybox-static
buildkit
debian_tool runc "$(command -v runc || echo /usr/sbin/runc)" \
	bash -c "runc --version | awk 'NR==1{print \"v\" \$3}'"
debian_tool busybox /bin/busybox \
	bash -c "busybox 2>&1 | awk 'NR==1{print \$2}'"
printf '%-9s %-10s %s\n' cni \
	"v$(dpkg-query -W -f='${Version}' containernetworking-plugins | sed 's/[+-].*//')" /usr/lib/cni/loopback
