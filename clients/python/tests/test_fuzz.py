"""The API fuzzed with schemathesis against api/openapi.yaml, for a bounded time
(FUZZ_SECONDS, default 60): every generated request, valid or malformed, must get an
answer the document allows (a 4xx JSON error for bad input, never a 500 or a hang),
and a 405 must say which methods are allowed.

The service runs on TCP with a token (schemathesis speaks TCP only) and `--images`,
so the only image is the test's. Dictionaries steer part of the generated values to
the live sandbox's id, that image and paths inside the sandbox, so the routes behind
an id are fuzzed too, not only their 404s.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from conftest import REPO, ROOTFS, Service
from safehouse import Sandbox

FUZZ_SECONDS = int(os.environ.get("FUZZ_SECONDS", "60"))
ST = Path(sys.executable).parent / "st"

# Checks left out, and why:
# - positive_data_acceptance: a schema-valid request may still fail for what the
#   schema cannot say (a rootfs that is not a directory, a file that does not exist,
#   a command's cwd missing in the sandbox); each such answer is a 4xx the document lists.
# - use_after_free, ensure_resource_availability: a sandbox whose timeout the fuzzer set
#   to 1 s is gone a second later by design, and a DELETE of a file does not make its
#   sandbox go.
EXCLUDED = "positive_data_acceptance,use_after_free,ensure_resource_availability"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_list(values) -> str:
    return "[" + ", ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "]"


def test_schemathesis_finds_nothing(private_tmp):
    assert ST.exists(), f"no schemathesis at {ST} (hack/setup installs it into .venv)"
    token = "fuzz-" + os.urandom(12).hex()
    svc = Service(private_tmp, listen=f"127.0.0.1:{free_port()}", token=token,
                  extra=["--images", os.path.dirname(ROOTFS)]).start()
    try:
        live = Sandbox.create(rootfs=ROOTFS, timeout=600, url=svc.url, token=token)
        config = private_tmp / "schemathesis.toml"
        config.write_text(f"""
[dictionaries.ids]
values = {toml_list([live.sandbox_id, "sbx-0000000000000000"])}
[dictionaries.images]
values = {toml_list([ROOTFS])}
[dictionaries.paths]
values = {toml_list(["/scratch/f", "/scratch", "/tmp/d/e", "/etc/passwd", "/dev/null", "/proc/self/root/etc", "/scratch/../../x"])}

[parameters]
"path.id" = {{ dictionary = "ids", probability = 0.8 }}
"query.path" = {{ dictionary = "paths", probability = 0.5 }}
"body.rootfs" = {{ dictionary = "images", probability = 0.3 }}
""")
        out = subprocess.run(
            [str(ST), "--config-file", str(config), "run", str(REPO / "api" / "openapi.yaml"),
             "--url", svc.url, "-H", f"Authorization: Bearer {token}",
             "--max-time", str(FUZZ_SECONDS), "--workers", "1", "--request-timeout", "30",
             "--exclude-checks", EXCLUDED, "--generation-database", "none",
             "--report-dir", str(private_tmp / "report"), "--no-color"],
            capture_output=True, text=True, timeout=FUZZ_SECONDS * 3 + 60, cwd=private_tmp)
        print(out.stdout[-20000:])
        print(out.stderr[-5000:], file=sys.stderr)
        assert out.returncode == 0, "schemathesis found failures (above)"
        # The service is still there and serves.
        assert svc.get("/v1/health").status_code == 200
        assert svc.proc is not None and svc.proc.poll() is None
        live.kill()
        live.close()
    finally:
        assert svc.cleanup() == []
