"""A real `safehouse serve` on a private socket, runtime root and state directory.

Environment: SAFEHOUSE (the safehouse binary, safehouse-serve next to it; default the
repository's debug build), ROOTFS (default: bundles/busybox/rootfs) and
SAFEHOUSE_BACKEND (native, the default, or gvisor: every service the tests start gets
`--backend gvisor`; the files API reaches a gVisor sandbox's files by exec, with the
same answers, which test_backend.py checks). Every sandbox,
process and socket a test starts is removed at the end (checked with `safehouse list`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, List, Optional

import httpx
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
REPO = HERE.parents[2]

AUDIT_DIR = Path("/var/log/safehouse")
SAFEHOUSE = os.environ.get("SAFEHOUSE") or str(REPO / ".build" / "debug" / "safehouse")
ROOTFS = os.environ.get("ROOTFS") or str(REPO / "bundles" / "busybox" / "rootfs")
BACKEND = os.environ.get("SAFEHOUSE_BACKEND") or "native"


class Service:
    """One `safehouse serve` process and its directories."""

    def __init__(self, tmp: Path, listen: Optional[str] = None, token: Optional[str] = None,
                 extra: Optional[List[str]] = None) -> None:
        self.extra = extra or []
        self.tmp = tmp
        self.socket = str(tmp / "api.sock")
        self.root = str(tmp / "root")
        self.state_dir = str(tmp / "state")
        self.listen = listen
        self.token = token
        self.proc: Optional[subprocess.Popen] = None
        self.log = tmp / "serve.log"
        # Every sandbox leaves its audit log (it outlives the sandbox by design); the
        # service's (sbx-*) that appear while this service runs are removed at cleanup.
        self.audit_before = self._audit_logs()

    @staticmethod
    def _audit_logs() -> set:
        try:
            return {p.name for p in AUDIT_DIR.iterdir() if p.name.startswith("sbx-")}
        except OSError:
            return set()

    @property
    def url(self) -> str:
        return f"http://{self.listen}" if self.listen else f"unix://{self.socket}"

    def args(self) -> List[str]:
        # Snapshots under the test's directory too (never the host's /var/lib/safehouse).
        args = [SAFEHOUSE, "serve", "--root", self.root, "--state-dir", self.state_dir,
                "--snapshots", str(self.tmp / "snapshots"), *self.extra]
        if BACKEND != "native":
            args += ["--backend", BACKEND]
        if self.listen:
            token_file = self.tmp / "token"
            token_file.write_text((self.token or "") + "\n")
            token_file.chmod(0o600)
            args += ["--listen", self.listen, "--token-file", str(token_file)]
        else:
            args += ["--socket", self.socket]
        return args

    def start(self) -> "Service":
        self.proc = subprocess.Popen(self.args(), stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"safehouse serve exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                if self.get("/v1/health").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("safehouse serve did not answer within 20s")

    def client(self, token: Optional[str] = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if self.listen:
            return httpx.Client(base_url=self.url, headers=headers, timeout=60)
        return httpx.Client(transport=httpx.HTTPTransport(uds=self.socket), base_url="http://safehouse",
                            headers=headers, timeout=60)

    def get(self, path: str) -> httpx.Response:
        with self.client(self.token) as c:
            return c.get(path)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def runtime(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([SAFEHOUSE, "--root", self.root, *args], capture_output=True, text=True)

    def containers(self) -> List[str]:
        out = self.runtime("list", "--format", "json")
        if out.returncode != 0 or not out.stdout.strip():
            return []
        return [c["id"] for c in (json.loads(out.stdout) or [])]

    def cleanup(self) -> List[str]:
        """Stops the service and removes whatever it left; the ids that were left."""
        if self.proc and self.proc.poll() is None:
            try:
                with self.client(self.token) as c:
                    for s in c.get("/v1/sandboxes").json()["sandboxes"]:
                        c.delete(f"/v1/sandboxes/{s['id']}")
            except Exception:
                pass
        self.stop()
        left = self.containers()
        for cid in left:
            self.runtime("delete", "--force", cid)
        for name in self._audit_logs() - self.audit_before:
            try:
                (AUDIT_DIR / name).unlink()
            except OSError:
                pass
        return left


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    tmp = Path(tempfile.mkdtemp(prefix="safehouse-serve-test."))
    svc = Service(tmp).start()
    os.environ["SAFEHOUSE_URL"] = svc.url
    os.environ.pop("SAFEHOUSE_TOKEN", None)
    try:
        yield svc
    finally:
        left = svc.cleanup()
        assert not os.path.exists(svc.socket), "the socket was left behind"
        shutil.rmtree(tmp, ignore_errors=True)
        assert left == [], f"sandboxes left after the tests: {left}"


@pytest.fixture
def sandbox(service: Service):
    from safehouse import Sandbox

    with Sandbox.create(rootfs=ROOTFS, timeout=120) as sbx:
        yield sbx


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="safehouse-serve-test."))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
