"""An LLM-style agent loop with no network: a stub "model" writes code as text, the code
runs in a sandbox, and its output is read back into the next turn.

    SAFEHOUSE_URL=unix:///run/safehouse/api.sock python examples/agent_loop.py /path/to/rootfs

Swap `StubModel.next_step` for a real model call; nothing else changes. The busybox
image has no Python, so the "model" writes shell.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from safehouse import Sandbox


@dataclass
class StubModel:
    """Plays a model: each turn it sees the transcript and answers with a script, or None when done."""

    plan: List[str] = field(default_factory=lambda: [
        # Turn 1: write a data file.
        "printf '3\\n1\\n2\\n' > /scratch/numbers.txt && echo wrote $(wc -l < /scratch/numbers.txt) numbers",
        # Turn 2: compute on it.
        "sort -n /scratch/numbers.txt | tr '\\n' ' ' > /scratch/sorted.txt; cat /scratch/sorted.txt",
        # Turn 3: a mistake the loop reports back (exit code and stderr).
        "cat /scratch/missing.txt",
    ])

    def next_step(self, transcript: List[Tuple[str, str]]) -> Optional[str]:
        turn = sum(1 for role, _ in transcript if role == "assistant")
        return self.plan[turn] if turn < len(self.plan) else None


def run(rootfs: str) -> List[Tuple[str, str]]:
    model = StubModel()
    transcript: List[Tuple[str, str]] = [("user", "Sort the numbers 3, 1, 2 and show the result.")]
    with Sandbox.create(policy="offline-strict", rootfs=rootfs, timeout=120, metadata={"example": "agent_loop"}) as sbx:
        while (code := model.next_step(transcript)) is not None:
            transcript.append(("assistant", code))
            sbx.files.write("/scratch/step.sh", code + "\n")
            result = sbx.commands.run(["sh", "/scratch/step.sh"], cwd="/scratch", timeout=30,
                                      on_stdout=lambda s: print(f"  | {s}", end=""))
            transcript.append(("tool", f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"))
        # The agent's files are read back before the sandbox goes.
        transcript.append(("result", str(sbx.files.read("/scratch/sorted.txt"))))
    return transcript


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: agent_loop.py ROOTFS")
    for role, text in run(sys.argv[1]):
        print(f"[{role}] {text}")
