"""Run a command and account for its whole process tree: wall time, CPU seconds summed over every
process it started, and the peak resident memory of its largest process.

`/usr/bin/time` cannot say this for `tfbench run`: its workers are children of the server that forks
them, not of the command, and their CPU time and memory never reach the command's own rusage. Here
/proc is sampled twice a second (Linux only); a process's CPU time is cumulative, so sampling loses
nothing of it, while a memory peak shorter than half a second can be missed.

    python tests/bench/process_tree.py python -m tfbench run all --profile quick --out fresh
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

INTERVAL_S = 0.5
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[int, float, int]]:
    """pid -> (parent pid, CPU seconds so far, resident bytes) for every process now running."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:  # it ended meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
        found[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, int(fields[21]) * PAGE)
    return found


def account(command: list[str]) -> dict:
    started = time.perf_counter()
    child = subprocess.Popen(command)
    cpu, peak, tree = {}, {}, {child.pid}
    while child.poll() is None:
        table = processes()
        grown = True
        while grown:  # descendants of descendants: a server's workers
            new = {pid for pid, (parent, _, _) in table.items() if parent in tree and pid not in tree}
            tree |= new
            grown = bool(new)
        for pid in tree & table.keys():
            _, seconds, resident = table[pid]
            cpu[pid], peak[pid] = seconds, max(peak.get(pid, 0), resident)
        time.sleep(INTERVAL_S)
    return {"wall_s": time.perf_counter() - started, "cpu_s": sum(cpu.values()), "processes": len(cpu),
            "peak_rss_mb": max(peak.values(), default=0) / 2**20, "exit_code": child.returncode}  # fmt: skip


if __name__ == "__main__":
    figures = account(sys.argv[1:])
    print("wall {wall_s:.1f} s, CPU {cpu_s:.1f} s over {processes} processes, largest process's peak RSS "
          "{peak_rss_mb:.0f} MB, exit code {exit_code}".format(**figures), file=sys.stderr)  # fmt: skip
    sys.exit(figures["exit_code"])
