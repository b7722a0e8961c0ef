"""The backend the service gives its sandboxes (SAFEHOUSE_BACKEND: native, or gvisor
for `--backend gvisor`), and what differs under gVisor: the sandbox runs in gVisor's
kernel, its files are not reachable from the host, so the files API reaches them by exec
inside the sandbox, with the native backend's answers."""

from __future__ import annotations

from conftest import BACKEND


def test_the_sandbox_runs_on_the_chosen_backend(sandbox):
    kernel = sandbox.commands.run("dmesg | head -1").stdout
    assert ("gVisor" in kernel) == (BACKEND == "gvisor"), kernel


def test_the_files_api_by_backend(service, sandbox):
    # Native: reached from the host; gVisor: by exec inside the sandbox. The answers are the same.
    sandbox.files.write("/scratch/f", "through the API")
    assert sandbox.commands.run("cat /scratch/f").stdout == "through the API"
    sandbox.commands.run("mkdir -p /scratch/d && printf made > /scratch/d/g && mknod /scratch/d/p p")
    assert sandbox.files.read("/scratch/d/g") == "made"
    assert [(e.name, e.type) for e in sandbox.files.list("/scratch/d")] == [("g", "file"), ("p", "other")]
    base = f"/v1/sandboxes/{sandbox.sandbox_id}/files"
    with service.client() as c:
        for method, url, status in [("GET", base + "?path=/scratch/none", 404), ("GET", base + "?path=/scratch/d/p", 400),
                                    ("GET", base + "?path=/scratch/d", 400), ("PUT", base + "?path=/scratch/d", 400),
                                    ("GET", base + "/list?path=/scratch/f", 400), ("DELETE", base + "?path=/scratch/none", 404),
                                    ("POST", base + "/mkdir?path=/scratch/d", 200), ("POST", base + "/mkdir?path=/scratch/e/f", 201),
                                    ("DELETE", base + "?path=/scratch/d", 204)]:
            r = c.request(method, url, content=b"x" if method == "PUT" else None)
            assert r.status_code == status, (method, url, r.text)
    assert sandbox.commands.run("ls /scratch").stdout.split() == ["e", "f"]
