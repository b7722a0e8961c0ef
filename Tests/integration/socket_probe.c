/* socket_probe: what socket(2) and socketpair(2) answer inside a sandbox, one line per
 * probe, "NAME=ok" or "NAME=ERRNONAME". Built static so it runs in any root. The
 * families are numbers, not <sys/socket.h> names, so that a libc without one still
 * builds; the raw syscall lets a probe set the upper 32 bits of the family, which the
 * kernel ignores (it reads an int) and a filter comparing 64 bits must not. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long rc) {
	if (rc >= 0) {
		printf("%s=ok\n", name);
		close((int)rc);
	} else {
		printf("%s=%s\n", name, strerrorname_np(errno));
	}
}

static void pair(const char *name, long family, int type) {
	int sv[2];
	long rc = syscall(SYS_socketpair, family, type, 0, sv);
	if (rc == 0) { close(sv[0]); close(sv[1]); printf("%s=ok\n", name); return; }
	printf("%s=%s\n", name, strerrorname_np(errno));
}

int main(void) {
	report("unix", syscall(SYS_socket, 1L, SOCK_STREAM, 0));
	report("inet", syscall(SYS_socket, 2L, SOCK_STREAM, 0));
	report("inet6", syscall(SYS_socket, 10L, SOCK_DGRAM, 0));
	report("netlink_route", syscall(SYS_socket, 16L, SOCK_RAW, 0));
	report("netlink_sock_diag", syscall(SYS_socket, 16L, SOCK_RAW, 4));
	report("netlink_uevent", syscall(SYS_socket, 16L, SOCK_RAW, 15));
	report("netlink_route_high", syscall(SYS_socket, 16L, SOCK_RAW, 0x100000000L));
	report("vsock", syscall(SYS_socket, 40L, SOCK_STREAM, 0));
	report("vsock_dgram", syscall(SYS_socket, 40L, SOCK_DGRAM, 0));
	report("vsock_high", syscall(SYS_socket, 0x100000028L, SOCK_STREAM, 0));
	report("packet", syscall(SYS_socket, 17L, SOCK_DGRAM, 0));
	report("alg", syscall(SYS_socket, 38L, SOCK_SEQPACKET, 0));
	report("unspec", syscall(SYS_socket, 0L, SOCK_STREAM, 0));
	pair("pair_unix", 1L, SOCK_STREAM);
	pair("pair_vsock", 40L, SOCK_STREAM);
	pair("pair_vsock_high", 0x100000028L, SOCK_STREAM);
	return 0;
}
