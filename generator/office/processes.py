"""No process outlives the one that started it, even killed with SIGKILL.

The office and the bridge each run under a *keeper* (:data:`KEEPER`, a few lines of
Python started by :func:`kept`), the leader of their process group, which waits for
its command or for our process to end (a pidfd of each, Linux 5.3+; polled otherwise)
and in the second case kills the whole group, soffice.bin included, which soffice
forks and which no parent-death signal would reach. :func:`die_with_parent` does the
same for a process of our own, e.g. a batch's worker.

The rest are the tools to watch and end such a group: :func:`exited` (without reaping
the leader, whose pid names the group), :func:`kill_group` and :func:`descendants`.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["KEEPER", "descendants", "die_with_parent", "exited", "kept", "kill_group"]

#: Run as ``python -I -S -c KEEPER PARENT_PID COMMAND...`` in a new session: run the
#: command in the keeper's process group with the keeper's stdin, stdout and stderr,
#: exit as it exits (a signal as 128 + its number), and kill the whole group as soon as
#: PARENT_PID, the process that started the keeper, is gone.
KEEPER = """
import os, select, signal, subprocess, sys

def watch(pid):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None

parent = int(sys.argv[1])
parent_fd = watch(parent)
if os.getppid() != parent:
    os.killpg(0, signal.SIGKILL)
child = subprocess.Popen(sys.argv[2:])
# Only the command keeps the pipes open: its end is their end.
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)
child_fd = watch(child.pid)
poller = select.poll()
for fd in (parent_fd, child_fd):
    if fd is not None:
        poller.register(fd, select.POLLIN)
wait_ms = None if parent_fd is not None and child_fd is not None else 200
while True:
    ready = [fd for fd, _ in poller.poll(wait_ms)]
    if parent_fd in ready or os.getppid() != parent:
        os.killpg(0, signal.SIGKILL)
    if child.poll() is not None:
        code = child.returncode
        os._exit(code if code >= 0 else 128 - code)
"""


def kept(command: Sequence[str]) -> list[str]:
    """Return ``command`` run under a keeper that kills its process group when we die.

    Start it with ``start_new_session=True``: the keeper leads the group it kills.
    """
    return [sys.executable, "-I", "-S", "-c", KEEPER, str(os.getpid()), *command]


def _parent_gone(parent: int) -> None:
    """Block until process ``parent`` is no longer our parent, then SIGKILL this process."""
    try:
        watch: int | None = os.pidfd_open(parent)
    except OSError:
        watch = None
    while os.getppid() == parent:
        if watch is None:
            time.sleep(0.2)
        else:
            select.select([watch], [], [])
    os.kill(os.getpid(), signal.SIGKILL)


def die_with_parent(parent: int | None = None) -> None:
    """Have this process killed as soon as ``parent`` (default: its parent now) ends.

    For processes we fork ourselves, such as a batch's workers: their offices
    follow them (see :data:`KEEPER`). Call it in the child, first thing, with
    the pid the parent had before forking.
    """
    expected = os.getppid() if parent is None else parent
    watcher = threading.Thread(
        target=_parent_gone, args=(expected,), name="contractgen-parent-watch", daemon=True
    )
    watcher.start()


def exited(proc: subprocess.Popen[bytes]) -> int | None:
    """Return the exit status of ``proc`` if it has ended, without reaping it."""
    if proc.returncode is not None:
        return proc.returncode
    try:
        # WNOWAIT leaves the zombie in place so its pid (= process-group id) cannot be
        # reused before kill_group() has run.
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return proc.poll()
    if info is None:
        return None
    if info.si_code == os.CLD_EXITED:
        return info.si_status
    return -info.si_status


def kill_group(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL the process group led by ``proc`` and reap the leader."""
    if proc is None:
        return
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _children(pid: int) -> list[int]:
    """Return the pids of the children of ``pid`` (Linux /proc)."""
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                kids.extend(int(p) for p in text.split())
    return kids


def descendants(pid: int) -> list[int]:
    """Return the pids of the children of ``pid``, their children and so on."""
    found: list[int] = []
    todo = [pid]
    while todo:
        kids = _children(todo.pop())
        found.extend(kids)
        todo.extend(kids)
    return found
