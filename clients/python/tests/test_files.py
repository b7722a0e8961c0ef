"""Files: write, read, list, mkdir, remove, a 10 MiB round trip, and paths that try to
leave the sandbox (.., symlinks to host paths, device files)."""

from __future__ import annotations

import os
import tempfile

import pytest

from safehouse import InvalidArgumentError, NotFoundError



def test_write_read_list_mkdir_remove(sandbox):
    info = sandbox.files.write("/tmp/hello.txt", "hello\n")
    assert (info.name, info.path, info.size) == ("hello.txt", "/tmp/hello.txt", 6)
    assert sandbox.files.read("/tmp/hello.txt") == "hello\n"
    assert sandbox.commands.run("cat /tmp/hello.txt").stdout == "hello\n"
    assert sandbox.files.make_dir("/tmp/a/b/c") is True
    assert sandbox.files.make_dir("/tmp/a/b/c") is False
    sandbox.files.write("/tmp/a/b/c/f", b"\x00\x01\x02")
    assert sandbox.files.read("/tmp/a/b/c/f", format="bytes") == b"\x00\x01\x02"
    entries = {e.name: e for e in sandbox.files.list("/tmp")}
    assert entries["hello.txt"].type == "file" and entries["hello.txt"].size == 6
    assert entries["a"].type == "dir"
    sandbox.files.remove("/tmp/hello.txt")
    with pytest.raises(NotFoundError):
        sandbox.files.read("/tmp/hello.txt")
    sandbox.files.remove("/tmp/a")
    assert "a" not in [e.name for e in sandbox.files.list("/tmp")]
    with pytest.raises(NotFoundError):
        sandbox.files.list("/nowhere")


def test_written_files_belong_to_the_sandbox_root(sandbox):
    sandbox.files.write("/scratch/owned", "x")
    sandbox.files.make_dir("/scratch/owned-dir")
    r = sandbox.commands.run("stat -c '%u:%g' /scratch/owned /scratch/owned-dir")
    assert r.stdout == "0:0\n0:0\n"
    # The sandbox's root can change what the service wrote.
    assert sandbox.commands.run("echo more >> /scratch/owned && rmdir /scratch/owned-dir").exit_code == 0


def test_ten_mib_round_trip(sandbox):
    data = os.urandom(10 * 1024 * 1024)
    chunks = (data[i:i + 65536] for i in range(0, len(data), 65536))
    assert sandbox.files.write("/scratch/big.bin", chunks).size == len(data)
    assert sandbox.files.read("/scratch/big.bin", format="bytes") == data
    assert sandbox.commands.run("wc -c < /scratch/big.bin").stdout.strip() == str(len(data))


def test_dotdot_stays_inside(sandbox):
    sandbox.files.write("/tmp/../../../../tmp/inside.txt", "in")
    assert sandbox.commands.run("cat /tmp/inside.txt").stdout == "in"
    assert not os.path.exists("/tmp/inside.txt") or open("/tmp/inside.txt").read() != "in"
    # /etc/hostname through .. is the sandbox's own file, if it has one, never the host's.
    with pytest.raises((NotFoundError, InvalidArgumentError)):
        sandbox.files.read("/../../../../etc/shadow")


def test_symlink_to_host_path_is_kept_inside(sandbox):
    with tempfile.TemporaryDirectory(prefix="safehouse-serve-host.") as host_dir:
        secret = os.path.join(host_dir, "secret")
        with open(secret, "w") as f:
            f.write("host secret")
        # Planted by the sandbox: links to the host path, absolute and through ..
        sandbox.commands.run(f"ln -s {secret} /tmp/abs-link; ln -s ../../../..{secret} /tmp/rel-link; "
                             f"ln -s {host_dir} /tmp/dir-link")
        for link in ("/tmp/abs-link", "/tmp/rel-link"):
            with pytest.raises(NotFoundError):
                sandbox.files.read(link)
        # Writing through the links lands inside the sandbox (or fails), never on the host.
        for target in ("/tmp/abs-link", "/tmp/dir-link/planted"):
            try:
                sandbox.files.write(target, "from the api")
            except (NotFoundError, InvalidArgumentError):
                pass
        assert open(secret).read() == "host secret"
        assert not os.path.exists(os.path.join(host_dir, "planted"))
        with pytest.raises(NotFoundError):
            sandbox.files.list("/tmp/dir-link")
        # Removing the link removes the link, not its target.
        sandbox.files.remove("/tmp/abs-link")
        assert os.path.exists(secret)


def test_device_files_refused(sandbox):
    with pytest.raises(InvalidArgumentError) as e:
        sandbox.files.read("/dev/zero")
    assert e.value.message.startswith("path:")
    with pytest.raises(InvalidArgumentError):
        sandbox.files.write("/dev/null", "x")
    with pytest.raises(InvalidArgumentError):
        sandbox.files.read("/tmp")
