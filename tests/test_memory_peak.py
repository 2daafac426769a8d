"""The run's memory figure (engine/memory_peak.py) against sizes known by construction: processes
that each hold a buffer of their own add up, a buffer forked processes share counts once."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tfbench.engine.memory_peak import MemoryPeak, descendants

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")

MB = 2**20
# A parent touches SIZE_MB of its own, then forks two children: `private` children touch their own
# buffers of SIZE_MB, `shared` children keep reading the parent's (copy-on-write, never copied).
SCRIPT = """
import os, sys, time
size = {size} * 2**20
buffer = bytearray(os.urandom(1024)) * (size // 1024)
children = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        mine = bytearray(os.urandom(1024)) * (size // 1024) if "{mode}" == "private" else None
        time.sleep(3)
        os._exit(0)
    children.append(pid)
print("ready", flush=True)
for pid in children:
    os.waitpid(pid, 0)
"""
SIZE_MB = 120


def peak_of(mode: str) -> dict:
    script = subprocess.Popen([sys.executable, "-c", SCRIPT.format(size=SIZE_MB, mode=mode)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert script.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # the children have their buffers by now
    with MemoryPeak(root=script.pid, interval=0.2) as memory:
        time.sleep(1.0)
    script.wait()
    return memory.stop()


def test_private_buffers_of_three_processes_add_up():
    figures = peak_of("private")
    assert figures["processes"] == 3
    assert 3 * SIZE_MB <= figures["peak_pss_mb"] < 3 * SIZE_MB + 60  # interpreters themselves: a few MB each
    # A child: its own buffer, and a third of the parent's that all three still share.
    assert SIZE_MB * 4 / 3 <= figures["largest_process_pss_mb"] < SIZE_MB * 4 / 3 + 30


def test_a_buffer_shared_by_forked_processes_counts_once():
    figures = peak_of("shared")
    # Resident sizes would count it three times (360 MB); proportional shares count it once.
    assert SIZE_MB <= figures["peak_pss_mb"] < SIZE_MB + 60
    assert figures["largest_process_pss_mb"] < SIZE_MB / 2


def test_descendants_are_found_below_children():
    child = subprocess.Popen(["sh", "-c", "sleep 5 & sleep 5"])
    time.sleep(0.3)
    try:
        assert len(descendants(child.pid)) == 3  # sh, and its two sleeps
    finally:
        child.kill()
        child.wait()
