#!/usr/bin/env python3
"""Seccomp notify listener for the integration tests (what a seccomp agent does with
linux.seccomp.listenerPath).

usage: seccomp_listener.py SOCKET_PATH STATE_OUT ANSWER [--timeout SECONDS]

Listens on the unix socket, accepts one connection from the runtime, receives the
notify descriptor (SCM_RIGHTS) with the container process state JSON, writes that JSON
to STATE_OUT, then answers every notified system call with the value ANSWER (success)
until the descriptor reports the filter gone or the timeout passes.
"""
import array
import fcntl
import os
import select
import socket
import struct
import sys
import time

# _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp).
NOTIF_SIZE = 80  # u64 id, u32 pid, u32 flags, struct seccomp_data (64 bytes)
RESP_SIZE = 24   # u64 id, s64 val, s32 error, u32 flags
IOCTL_RECV = (3 << 30) | (NOTIF_SIZE << 16) | (ord("!") << 8) | 0
IOCTL_SEND = (3 << 30) | (RESP_SIZE << 16) | (ord("!") << 8) | 1


def main() -> int:
    path, state_out, answer = sys.argv[1], sys.argv[2], int(sys.argv[3])
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--timeout" else 20.0
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(timeout)
    conn, _ = server.accept()
    fds = array.array("i")
    msg, ancdata, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not fds:
        return 3
    with open(state_out, "wb") as f:
        f.write(msg)
    notify = fds[0]
    deadline = time.monotonic() + timeout
    answered = 0
    while time.monotonic() < deadline:
        ready, _, _ = select.select([notify], [], [], 0.2)
        if not ready:
            continue
        buf = bytearray(NOTIF_SIZE)
        try:
            fcntl.ioctl(notify, IOCTL_RECV, buf, True)
        except OSError:
            break  # the filter's processes are gone
        notif_id = struct.unpack_from("<Q", buf, 0)[0]
        resp = bytearray(struct.pack("<QqiI", notif_id, answer, 0, 0))
        try:
            fcntl.ioctl(notify, IOCTL_SEND, resp, True)
            answered += 1
        except OSError:
            pass
    print(f"answered {answered}")
    return 0 if answered else 4


if __name__ == "__main__":
    sys.exit(main())
