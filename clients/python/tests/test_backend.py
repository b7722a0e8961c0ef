"""The backend the service gives its sandboxes (SAFEHOUSE_BACKEND: native, or gvisor
for `--backend gvisor`), and what differs under gVisor: the sandbox runs in gVisor's
kernel, its files are not reachable from the host, so the files API answers 501
`unsupported` naming the way that works (commands), and commands do reach them."""

from __future__ import annotations

import pytest

from conftest import BACKEND
from safehouse import SafehouseError


def test_the_sandbox_runs_on_the_chosen_backend(sandbox):
    kernel = sandbox.commands.run("dmesg | head -1").stdout
    assert ("gVisor" in kernel) == (BACKEND == "gvisor"), kernel


def test_the_files_api_by_backend(service, sandbox):
    base = f"/v1/sandboxes/{sandbox.sandbox_id}/files"
    if BACKEND == "native":
        sandbox.files.write("/scratch/f", "through the API")
        assert sandbox.commands.run("cat /scratch/f").stdout == "through the API"
        return
    with service.client() as c:
        for method, url in [("GET", base + "?path=/etc/hostname"), ("PUT", base + "?path=/scratch/f"),
                            ("DELETE", base + "?path=/scratch/f"), ("GET", base + "/list?path=/"),
                            ("POST", base + "/mkdir?path=/scratch/d")]:
            r = c.request(method, url, content=b"x" if method == "PUT" else None)
            assert r.status_code == 501, (method, url, r.text)
            assert r.json()["error"]["code"] == "unsupported" and "commands" in r.json()["error"]["message"]
    with pytest.raises(SafehouseError) as e:
        sandbox.files.write("/scratch/f", "x")
    assert e.value.status == 501
    assert sandbox.commands.run("tee /scratch/f >/dev/null; cat /scratch/f", stdin="through commands").stdout == "through commands"
