#!/usr/bin/env bats
# The socket families an agent sandbox may open (both seccomp profiles): unix, inet,
# inet6 and netlink (route, sock_diag, audit) only. vsock is fenced by no network
# namespace: it reaches the hypervisor and other guests from any of them. A static
# probe (socket_probe.c) in /input asks the kernel directly, with the upper half of
# the 64-bit argument set too. Needs the real runtime; runs under gvisor as well.

load helpers

setup() {
	common_setup
	mkdir -p "$TEST_TMP/in"
	gcc -static -O2 -o "$TEST_TMP/in/socket_probe" "$BATS_TEST_DIRNAME/socket_probe.c"
	chmod 0755 "$TEST_TMP/in" "$TEST_TMP/in/socket_probe"
}

teardown() {
	common_teardown
}

# probe POLICY: the probe's lines inside an agent sandbox of POLICY.
probe() {
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$1" \
		--rootfs "$ROOTFS" --input "$TEST_TMP/in" --summary none -- /input/socket_probe
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
}

# refused_as_expected: the lines every profile must print. Under gvisor the filter is
# runsc's (--oci-seccomp), which answers EPERM for every errno action (this runsc
# ignores errnoRet: the minimal profile's ENOSYS is EPERM there too), and gVisor has
# no sock_diag netlink of its own.
refused_as_expected() {
	local line family=EAFNOSUPPORT proto=EPROTONOSUPPORT diag=ok
	if [ "${SAFEHOUSE_BACKEND:-native}" = gvisor ]; then
		family=EPERM proto=EPERM diag=EPROTONOSUPPORT
	fi
	for line in unix=ok inet=ok inet6=ok netlink_route=ok netlink_sock_diag=$diag pair_unix=ok \
		vsock=$family vsock_dgram=$family vsock_high=$family packet=$family alg=$family \
		unspec=$family pair_vsock=$family pair_vsock_high=$family \
		netlink_uevent=$proto netlink_route_high=$proto; do
		echo "$output" | grep -qx "$line" || { echo "# expected $line" >&2; return 1; }
	done
}

@test "sockets: the agent profile refuses vsock and every family but unix, inet, inet6 and netlink, for socket and socketpair" {
	probe default
	refused_as_expected
}

@test "sockets: the minimal profile (offline-strict) allows the same four families and refuses the rest the same way" {
	probe offline-strict
	refused_as_expected
}
