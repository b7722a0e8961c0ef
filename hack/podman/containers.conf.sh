#!/usr/bin/env bash
# hack/podman/containers.conf.sh [--name NAME] [--drop-in] [PATH]: print a containers.conf
# whose default runtime is the safehouse binary at PATH, named by that absolute path.
#
#   PATH       the runtime binary; default: safehouse in $PATH, else this repository's
#              .build/release/safehouse, else .build/debug/safehouse
#   --name     the runtime entry's name (default: the binary's file name); Podman shows
#              it as the container's OCIRuntime and `podman --runtime NAME` selects it
#   --drop-in  only the runtime lines, for /etc/containers/containers.conf.d/ on a host
#              whose own settings stay; without it, hack/podman/containers.conf (this
#              machine kind's settings: ulimits, cgroupfs, no journald) comes first
#
#   hack/podman/containers.conf.sh >/tmp/safehouse-podman.conf
#   CONTAINERS_CONF=/tmp/safehouse-podman.conf podman run --rm localhost/busybox echo hi
#   hack/podman/containers.conf.sh --drop-in /opt/safehouse/bin/safehouse \
#       >/etc/containers/containers.conf.d/50-safehouse.conf
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

name="" dropin=0 runtime=""
while [ $# -gt 0 ]; do
	case "$1" in
	--name)
		[ $# -ge 2 ] || { echo "containers.conf.sh: --name needs a value" >&2; exit 2; }
		name="$2"
		shift
		;;
	--drop-in) dropin=1 ;;
	-h | --help)
		sed -n '2,17p' "$0"
		exit 0
		;;
	-*)
		echo "containers.conf.sh: unknown option: $1" >&2
		exit 2
		;;
	*)
		[ -z "$runtime" ] || { echo "containers.conf.sh: one runtime path only" >&2; exit 2; }
		runtime="$1"
		;;
	esac
	shift
done

if [ -z "$runtime" ]; then
	for candidate in "$(command -v safehouse || true)" "$REPO/.build/release/safehouse" "$REPO/.build/debug/safehouse"; do
		if [ -n "$candidate" ] && [ -x "$candidate" ]; then
			runtime="$candidate"
			break
		fi
	done
	[ -n "$runtime" ] || {
		echo "containers.conf.sh: no safehouse in PATH or .build/: run hack/build, or give the binary's path" >&2
		exit 1
	}
fi
# Podman needs an absolute path; the link itself (not its target) is kept, so a later
# build behind the same link needs no new file.
runtime="$(realpath -s "$runtime")"
if [ ! -x "$runtime" ] || [ -d "$runtime" ]; then
	echo "containers.conf.sh: $runtime is not an executable file" >&2
	exit 1
fi
name="${name:-$(basename "$runtime")}"
case "$name" in
*[!A-Za-z0-9_-]*)
	echo "containers.conf.sh: --name \"$name\": use letters, digits, - and _ (a TOML key)" >&2
	exit 2
	;;
esac
case "$runtime" in
*[\"\\]*)
	echo "containers.conf.sh: $runtime: a path with \" or \\ cannot be written here" >&2
	exit 2
	;;
esac

if [ "$dropin" = 1 ]; then
	printf '# safehouse as the default OCI runtime (hack/podman/containers.conf.sh).\n'
	printf '[engine]\n'
	printf 'runtime = "%s"\n' "$name"
	printf 'runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "%s"]\n' "$name"
else
	# The machine kind's file, with the default runtime added to its [engine] table and
	# its name to the runtimes that write JSON logs.
	awk -v name="$name" '
		/^runtime_supports_json = \[/ && index($0, "\"" name "\"") == 0 { sub(/\]$/, ", \"" name "\"]") }
		{ print }
		/^\[engine\][ \t]*$/ { printf "# The default for `podman run`; `podman --runtime NAME|PATH` still picks another.\nruntime = \"%s\"\n", name }
	' "$HERE/containers.conf"
fi
printf '\n[engine.runtimes]\n'
printf '%s = ["%s"]\n' "$name" "$runtime"
