#!/usr/bin/env python3
"""Console-socket peer for the integration tests (what an engine does with --console-socket).

usage: console_socket.py SOCKET_PATH [--input TEXT] [--timeout SECONDS]

Listens on the unix socket SOCKET_PATH, accepts one connection, receives the pty master
file descriptor the runtime sends with SCM_RIGHTS, optionally writes TEXT to it, and
copies everything the container writes to the terminal to stdout until the terminal
closes (EIO/EOF). The message that carried the fd (runc sends the pty's name) goes to
stderr as "name: ...". Exits 2 on timeout, 3 if no fd arrived.
"""
import array
import os
import select
import socket
import sys
import time


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 64
    path = args.pop(0)
    text = None
    timeout = 30.0
    while args:
        flag = args.pop(0)
        if flag == "--input":
            text = args.pop(0)
        elif flag == "--timeout":
            timeout = float(args.pop(0))
        else:
            print(f"unknown flag {flag}", file=sys.stderr)
            return 64

    deadline = time.monotonic() + timeout
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(timeout)
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        print("timeout waiting for the runtime to connect", file=sys.stderr)
        return 2
    fds = array.array("i")
    msg, ancdata, _flags, _addr = conn.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    conn.close()
    srv.close()
    if not fds:
        print("no file descriptor received", file=sys.stderr)
        return 3
    print(f"name: {msg.decode(errors='replace')}", file=sys.stderr)
    master = fds[0]
    for extra in fds[1:]:
        os.close(extra)

    if text is not None:
        os.write(master, text.encode())

    out = sys.stdout.buffer
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print("timeout waiting for the terminal to close", file=sys.stderr)
            return 2
        ready, _, _ = select.select([master], [], [], left)
        if not ready:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the last slave fd closed
            break
        if not data:
            break
        out.write(data)
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
