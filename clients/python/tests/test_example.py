"""examples/agent_loop.py runs end to end against the service."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from conftest import ROOTFS
from safehouse import Sandbox


def test_agent_loop(service):
    path = Path(__file__).resolve().parents[1] / "examples" / "agent_loop.py"
    spec = importlib.util.spec_from_file_location("agent_loop", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent_loop"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    transcript = module.run(ROOTFS)
    tools = [text for role, text in transcript if role == "tool"]
    assert tools[0].startswith("exit 0\nstdout: wrote 3 numbers")
    assert "stdout: 1 2 3 " in tools[1]
    assert tools[2].startswith("exit 1") and "missing.txt" in tools[2]
    assert transcript[-1] == ("result", "1 2 3 ")
    assert Sandbox.list(metadata={"example": "agent_loop"}) == []
