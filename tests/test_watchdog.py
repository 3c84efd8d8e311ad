"""Engine processes end with the camelid process that started them, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

OWNER = """
import subprocess, sys, time
from camelid.engines import watchdog
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
held = watchdog.watch(watchdog.engine_children())
print(child.pid, flush=True)
time.sleep(600)
"""


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_kill_9_of_the_owner_ends_its_engine_processes_within_seconds() -> None:
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True)
    child = int(owner.stdout.readline())  # type: ignore[union-attr]
    assert psutil.Process(child).is_running()
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()
    assert gone_within(child, 10), "the engine process outlived its owner"


def test_a_clean_exit_leaves_nothing_to_end() -> None:
    from camelid.engines import watchdog

    assert watchdog.watch([]) is None  # no children (vLLM's engine core in process): no watchdog
