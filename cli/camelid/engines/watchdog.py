"""End an engine's processes when the camelid process (or the shell) that started them dies.

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
from typing import Any

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


def watch_owner(owner: int, pids: list[int]) -> None:
    """Start a watchdog that ends these processes (their process groups, for group leaders such
    as `camelid serve`'s server) once `owner` (a shell) is gone; it polls once a second."""
    import psutil

    started = [f"{pid}:{psutil.Process(pid).create_time()!r}" for pid in pids]
    owner_spec = f"{owner}:{psutil.Process(owner).create_time()!r}"
    subprocess.Popen(
        [sys.executable, "-m", "camelid.engines.watchdog", f"owner={owner_spec}", *started],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def engine_children() -> list[int]:
    """The processes this one has started (and theirs), for `watch`."""
    import psutil

    return [p.pid for p in psutil.Process().children(recursive=True)]


def _same(pid: int, created: float) -> Any:
    """The process, if it is still the one we were given (not a new one that took its pid)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc if abs(proc.create_time() - created) < 0.01 else None
    except psutil.Error:
        return None


def _signal(proc: Any, sig: int) -> None:
    import psutil

    try:
        if os.getpgid(proc.pid) == proc.pid:  # a group leader: its whole group (engine workers)
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except (OSError, psutil.Error):
        pass


def _end(targets: list[tuple[int, float]]) -> None:
    import psutil

    alive = [proc for pid, created in targets if (proc := _same(pid, created)) is not None]
    for proc in alive:
        _signal(proc, signal.SIGTERM)
    _, still = psutil.wait_procs(alive, timeout=GRACE_SECONDS)
    for proc in still:
        _signal(proc, signal.SIGKILL)


def _parse(spec: str) -> tuple[int, float]:
    pid, created = spec.split(":")
    return int(pid), float(created)


def main(argv: list[str]) -> None:
    targets = [_parse(spec) for spec in argv[1:]]
    if argv[0].startswith("owner="):  # a shell: polled, it holds no pipe of ours
        owner = _parse(argv[0].removeprefix("owner="))
        while _same(*owner) is not None and any(_same(*t) is not None for t in targets):
            time.sleep(1.0)
    else:
        fd = int(argv[0])
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
