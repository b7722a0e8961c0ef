"""Commands: argv and shell, exit codes, streaming callbacks, env and cwd, stdin, timeout."""

from __future__ import annotations

import os
import time
from pathlib import Path

from conftest import ROOTFS
from safehouse import Sandbox


def test_shell_and_argv(sandbox):
    r = sandbox.commands.run("echo hi; echo err >&2; exit 3")
    assert (r.stdout, r.stderr, r.exit_code) == ("hi\n", "err\n", 3)
    r = sandbox.commands.run(["echo", "-n", "a b", "$HOME"])
    assert (r.stdout, r.exit_code) == ("a b $HOME", 0)
    assert sandbox.commands.run(["false"]).exit_code == 1


def test_state_persists_between_commands(sandbox):
    sandbox.commands.run("echo kept > /tmp/state")
    assert sandbox.commands.run("cat /tmp/state").stdout == "kept\n"


def test_streaming_callbacks_arrive_as_output_comes(sandbox):
    seen = []
    started = time.monotonic()
    r = sandbox.commands.run("echo one; sleep 1; echo two; echo bad >&2",
                             on_stdout=lambda s: seen.append(("out", s, time.monotonic() - started)),
                             on_stderr=lambda s: seen.append(("err", s, time.monotonic() - started)))
    assert r.stdout == "one\ntwo\n" and r.stderr == "bad\n" and r.exit_code == 0
    outs = [s for kind, s, _ in seen if kind == "out"]
    assert "".join(outs) == "one\ntwo\n"
    first = next(t for kind, s, t in seen if kind == "out")
    assert first < 0.9, f"the first line came after {first:.2f}s: not streamed"
    assert ("err", "bad\n") in [(k, s) for k, s, _ in seen]


def test_env_and_cwd(service):
    with Sandbox.create(rootfs=ROOTFS, timeout=60, envs={"FROM_SANDBOX": "s", "BOTH": "sandbox"}) as sbx:
        r = sbx.commands.run("echo $FROM_SANDBOX $BOTH $ONLY; pwd", cwd="/tmp", envs={"BOTH": "command", "ONLY": "x"})
        assert r.stdout == "s command x\n/tmp\n"


def test_stdin(sandbox):
    assert sandbox.commands.run(["cat"], stdin="piped\n").stdout == "piped\n"


def test_timeout_stops_the_command(sandbox):
    # A process group the command leaves behind is stopped too.
    started = time.monotonic()
    r = sandbox.commands.run("echo before; sleep 30 & sleep 30", timeout=1)
    assert time.monotonic() - started < 10
    assert r.timed_out and r.exit_code == 124
    assert r.stdout == "before\n"
    assert sandbox.commands.run("ps -o args | grep '^sleep 30$' || true").stdout == ""


def test_json_reply_without_streaming(service, sandbox):
    with service.client() as c:
        r = c.post(f"/v1/sandboxes/{sandbox.sandbox_id}/commands", json={"cmd": ["sh", "-c", "echo out; echo e >&2; exit 7"]})
        assert r.status_code == 200
        assert r.json() == {"stdout": "out\n", "stderr": "e\n", "exitCode": 7, "timedOut": False}


def service_children(pid: int) -> list:
    """The processes whose parent is the service (its running `safehouse exec`s)."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def fd_targets(pid: int) -> list:
    return sorted(os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd"))


def stream_until(service, sandbox, marker: str, body: dict) -> None:
    """Starts a streamed command, reads until `marker` appears, then disconnects."""
    with service.client() as c:
        with c.stream("POST", f"/v1/sandboxes/{sandbox.sandbox_id}/commands", json=body,
                      headers={"Accept": "text/event-stream"}) as r:
            for line in r.iter_lines():
                if marker in line:
                    break


def test_client_gone_mid_stream_leaves_the_command_running_and_nothing_leaked(service, sandbox):
    pid = service.proc.pid
    state = Path(service.state_dir) / sandbox.sandbox_id
    fds_before = len(os.listdir(f"/proc/{pid}/fd"))
    # After the client has gone the command writes 20 MB more (dropped by the service:
    # were it not read, the command would block on a full pipe) and then a file.
    stream_until(service, sandbox, "started",
                 {"cmd": "rm -f /tmp/after; echo started; sleep 1; head -c 20000000 /dev/zero; echo done > /tmp/after",
                  "timeout": 30})
    assert service_children(pid), "the command stopped with its client"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and service_children(pid):
        time.sleep(0.1)
    assert sandbox.commands.run("cat /tmp/after").stdout == "done\n"
    # Reaped, its pid file gone, no descriptor or pipe of it left in the service.
    assert service_children(pid) == []
    assert list(state.glob("exec-*.pid")) == []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(os.listdir(f"/proc/{pid}/fd")) > fds_before:
        time.sleep(0.1)
    assert len(os.listdir(f"/proc/{pid}/fd")) <= fds_before, fd_targets(pid)


def test_client_gone_mid_stream_kills_the_command_when_asked(service, sandbox):
    stream_until(service, sandbox, "started", {"cmd": "echo started; sleep 300", "killOnDisconnect": True})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = sandbox.commands.run("ps -o args | grep '^sleep 300' || true").stdout
        if not left:
            break
        time.sleep(0.25)
    assert left == ""
    assert service_children(service.proc.pid) == []
