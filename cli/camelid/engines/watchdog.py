"""End an engine's processes when the camelid process that started them dies.

SIGTERM and Ctrl-C shut an engine down cleanly, but kill -9, the OOM killer or a preempted node
give no chance to: vLLM's EngineCore and workers then lived on for minutes holding their memory
(on a GPU box, the GPU), and a `--resume` right after failed for want of it. A small watchdog
process holds the read end of a pipe whose write end only the owner holds: the kernel closes it
when the owner dies, however it dies, and the watchdog then ends the processes it was given.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE_SECONDS = 5.0


def watch(pids: list[int]) -> int | None:
    """Start a watchdog for these processes (children of this one); returns the pipe's write
    end, which must stay open for as long as they should live (None when there is nothing)."""
    if not pids:
        return None
    import psutil

    started = []
    for pid in pids:
        try:
            started.append(f"{pid}:{psutil.Process(pid).create_time()!r}")
        except psutil.Error:
            continue
    read, write = os.pipe()  # not inheritable: engine children never hold the write end
    subprocess.Popen(
        [sys.executable, "-m", "camelid.engines.watchdog", str(read), *started],
        pass_fds=(read,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in the terminal is for camelid, not for the watchdog
    )
    os.close(read)
    return write


def engine_children() -> list[int]:
    """The processes this one has started (and theirs), for `watch`."""
    import psutil

    return [p.pid for p in psutil.Process().children(recursive=True)]


def _end(targets: list[tuple[int, float]]) -> None:
    import psutil

    alive = []
    for pid, created in targets:
        try:
            proc = psutil.Process(pid)
            if abs(proc.create_time() - created) < 0.01:  # not a new process that took the pid
                proc.send_signal(signal.SIGTERM)
                alive.append(proc)
        except psutil.Error:
            continue
    _, still = psutil.wait_procs(alive, timeout=GRACE_SECONDS)
    for proc in still:
        try:
            proc.kill()
        except psutil.Error:
            continue


def main(argv: list[str]) -> None:
    fd, targets = int(argv[0]), []
    for spec in argv[1:]:
        pid, created = spec.split(":")
        targets.append((int(pid), float(created)))
    while True:  # EOF: every holder of the write end (the owner) is gone
        try:
            if not os.read(fd, 1):
                break
        except InterruptedError:
            continue
    time.sleep(0.2)  # a clean shutdown may be ending them already
    _end(targets)


if __name__ == "__main__":
    main(sys.argv[1:])
