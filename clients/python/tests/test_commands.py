"""Commands: argv and shell, exit codes, streaming callbacks, env and cwd, stdin, timeout."""

from __future__ import annotations

import time

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
        assert r.json() == {"stdout": "out\n", "stderr": "e\n", "exitCode": 7, "timedOut": False, "killed": False}
