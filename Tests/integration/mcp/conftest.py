"""`safehouse mcp` driven as an MCP client drives it: the `mcp` package from PyPI
starts the server over stdio and calls its tools.

Environment: SAFEHOUSE (the safehouse binary, safehouse-mcp next to it; default the
repository's debug build) and ROOTFS (the busybox root filesystem; default
bundles/busybox/rootfs). The tests make two images under a private --images directory:
`busybox` (a copy of ROOTFS, no Python) and `python` (the same with the host's
python3 and its standard library), in MCP_TEST_IMAGES when set. Each test's runtime root and state directory are
private; every sandbox is checked gone at the end, and the audit logs of the sandboxes
the test made (their bundle under its state directory) are removed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SAFEHOUSE = os.environ.get("SAFEHOUSE") or str(REPO / ".build" / "debug" / "safehouse")
ROOTFS = os.environ.get("ROOTFS") or str(REPO / "bundles" / "busybox" / "rootfs")
AUDIT_DIR = Path("/var/log/safehouse")
HOST_PYTHON = "/usr/bin/python3.11"


def make_python_image(image: Path) -> None:
    """A copy of the busybox image plus the host's python3 at its own path, the shared
    libraries it links at theirs, and its standard library."""
    shutil.copytree(ROOTFS, image, symlinks=True)
    out = subprocess.run(["ldd", HOST_PYTHON], capture_output=True, text=True, check=True).stdout
    libraries = [w for line in out.splitlines() for w in line.split() if w.startswith("/")]
    for path in [HOST_PYTHON, *libraries]:
        target = image / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(path), target)
    stdlib = "/usr/lib/python3.11"
    shutil.copytree(stdlib, image / stdlib.lstrip("/"), symlinks=True,
                    ignore=shutil.ignore_patterns("test", "idlelib", "tkinter", "ensurepip", "site-packages", "dist-packages"))
    (image / "usr/bin/python3").symlink_to("python3.11")


def build_images(images: Path) -> None:
    """Built beside `images` and renamed into place: a run stopped halfway leaves no half image."""
    partial = images.parent / "images.partial"
    partial.mkdir()
    shutil.copytree(ROOTFS, partial / "busybox", symlinks=True)
    make_python_image(partial / "python")
    partial.rename(images)


@pytest.fixture(scope="session")
def images() -> Iterator[Path]:
    """The images, built once per run; MCP_TEST_IMAGES names a directory that keeps them
    across runs (the bats file's, so its tests build them once), else a temporary one."""
    if not os.access(HOST_PYTHON, os.X_OK):
        pytest.fail(f"no {HOST_PYTHON} on the host to build the python image from (hack/setup installs python3)")
    kept = os.environ.get("MCP_TEST_IMAGES")
    if kept:
        images = Path(kept)
        if not images.is_dir():
            images.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(images.parent / "images.partial", ignore_errors=True)
            build_images(images)
        yield images
        return
    tmp = Path(tempfile.mkdtemp(prefix="safehouse-mcp-images."))
    try:
        build_images(tmp / "images")
        yield tmp / "images"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Setup:
    """One server's flags and its private runtime root and state directory."""

    def __init__(self, tmp: Path, images: Path) -> None:
        self.tmp = tmp
        self.images = images
        self.root = str(tmp / "root")
        self.state_dir = str(tmp / "state")
        self.python = str(images / "python")
        self.busybox = str(images / "busybox")

    def args(self, *extra: str, rootfs: Optional[str] = None) -> List[str]:
        return ["mcp", "--rootfs", rootfs or self.python, "--images", str(self.images),
                "--policy", "default", "--policy", "offline-strict",
                "--root", self.root, "--state-dir", self.state_dir, "--timeout", "300", *extra]

    def params(self, *extra: str, rootfs: Optional[str] = None):
        from mcp import StdioServerParameters

        return StdioServerParameters(command=SAFEHOUSE, args=self.args(*extra, rootfs=rootfs))

    def containers(self) -> List[str]:
        out = subprocess.run([SAFEHOUSE, "--root", self.root, "list", "--format", "json"], capture_output=True, text=True)
        if out.returncode != 0 or not out.stdout.strip():
            return []
        return [c["id"] for c in (json.loads(out.stdout) or [])]

    def records(self) -> List[str]:
        """What the servers left in the state directory (each makes and removes a directory of its own)."""
        try:
            return sorted(os.listdir(self.state_dir))
        except FileNotFoundError:
            return []


def remove_audit_logs(state_dir: str, since: float) -> None:
    """The audit logs (which outlive a sandbox by design) of the sandboxes whose bundle
    was under `state_dir`: only this test's, whatever else runs on the machine."""
    for log in AUDIT_DIR.glob("sbx-*.audit.jsonl"):
        try:
            if log.stat().st_mtime < since:
                continue
            with open(log) as f:
                head = f.read(4096)
        except OSError:
            continue
        if f'"bundle":"{state_dir}/' in head:
            for path in (log, Path(str(log) + ".head")):
                path.unlink(missing_ok=True)


@pytest.fixture
def setup(images: Path) -> Iterator[Setup]:
    tmp = Path(tempfile.mkdtemp(prefix="safehouse-mcp-test."))
    s = Setup(tmp, images)
    since = time.time() - 1
    try:
        yield s
    finally:
        left = s.containers()
        for cid in left:
            subprocess.run([SAFEHOUSE, "--root", s.root, "delete", "--force", cid], capture_output=True)
        remove_audit_logs(s.state_dir, since)
        records = s.records()
        shutil.rmtree(tmp, ignore_errors=True)
        assert left == [], f"sandboxes left after the test: {left}"
        assert records == [], f"records left in the state directory: {records}"


def text(result: Any) -> str:
    """The text of a tool result's content."""
    return "".join(getattr(c, "text", "") for c in result.content)


def structured(result: Any) -> Dict[str, Any]:
    return getattr(result, "structured_content", None) or getattr(result, "structuredContent", None) or {}


def is_error(result: Any) -> bool:
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))
