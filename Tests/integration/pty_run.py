#!/usr/bin/env python3
"""Run a command on a real pseudo-terminal, as a person at a terminal would (podman -it).

usage: pty_run.py [--size ROWSxCOLS] [--input TEXT] [--timeout SECONDS] -- COMMAND [ARG...]

Opens a pty (the pty module), sets its window size (default 24x80) before the command
starts, runs COMMAND with the pty's slave as its controlling terminal and stdin, stdout
and stderr, writes TEXT to the master once the command has printed anything (or after a
second), and copies everything the terminal shows to stdout, carriage returns removed,
until the terminal closes. Exits with the command's exit code (128+N if a signal ended
it), or 124 on timeout (the command is killed).
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def main() -> int:
    args = sys.argv[1:]
    rows, cols, text, timeout = 24, 80, None, 30.0
    while args and args[0] != "--":
        flag = args.pop(0)
        if flag == "--size" and args:
            r, c = args.pop(0).split("x")
            rows, cols = int(r), int(c)
        elif flag == "--input" and args:
            text = args.pop(0).encode()
        elif flag == "--timeout" and args:
            timeout = float(args.pop(0))
        else:
            print(__doc__, file=sys.stderr)
            return 64
    if not args or len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    command = args[1:]

    master, slave = pty.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(command[0], command)
        except OSError as e:
            os.write(2, f"pty_run.py: {command[0]}: {e}\n".encode())
        os._exit(127)
    os.close(slave)

    started = time.monotonic()
    deadline = started + timeout
    out = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
            print("pty_run.py: timed out", file=sys.stderr)
            return 124
        if text is not None and (out or time.monotonic() - started > 1.0):
            os.write(master, text)
            text = None
        ready, _, _ = select.select([master], [], [], min(left, 0.1))
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every holder of the slave has closed it
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(master)
    sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code  # killed by signal N: 128+N, as a shell says


if __name__ == "__main__":
    sys.exit(main())
