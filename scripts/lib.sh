# Shared by scripts/tools.sh and scripts/engine.sh, which source it after
# defining die: installing Debian packages, as root or through sudo.

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

# debian_packages installs whichever of its arguments dpkg does not list as
# installed, with a single apt-get update and install.
debian_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	((${#missing[@]} == 0)) && return 0
	command -v apt-get >/dev/null 2>&1 ||
		die "missing Debian packages (${missing[*]}) and apt-get is not available; install them by hand"
	local start=$SECONDS
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -qq </dev/null >/dev/null || die "apt-get update failed"
	as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null ||
		die "apt-get install ${missing[*]} failed"
	echo "apt     installed ${missing[*]} in $((SECONDS - start))s"
}
