"""Run a command and account for its whole process tree: wall time, CPU seconds summed over every
process it started (and so the cores kept busy), the peak resident memory of its largest process,
and the peak of all its processes' proportional set sizes summed.

`/usr/bin/time` cannot say this for `tfbench run`: its workers are children of the server that forks
them, not of the command, and their CPU time and memory never reach the command's own rusage. Here
/proc is sampled twice a second (Linux only); a process's CPU time is cumulative, so sampling loses
nothing of it, while a memory peak shorter than half a second can be missed.

The proportional set size (PSS) charges each page shared by k processes 1/k to each, so their sum
is the memory the run really takes: forked workers share TensorFlow's pages with their server, and
adding up their resident sizes would count those pages once per process. It is sampled as `run`
samples it for its own manifest (tfbench/engine/memory_peak.py).

    python tests/bench/process_tree.py python -m tfbench run all --profile quick --out fresh
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tfbench.engine.memory_peak import MemoryPeak

INTERVAL_S = 0.5
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
STARTUP_S = 10.0  # the start-up window whose core use is reported on its own


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


def role(pid: int) -> str:
    """A short name for the process: the end of its command line."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().split(b"\0")
    except OSError:
        return "?"
    return " ".join(w.decode(errors="replace") for w in words if w)[-60:]


def account(command: list[str], quiet: bool = False, cwd=None) -> dict:
    """The figures of `command` run to its end (`quiet`: its output discarded)."""
    started = time.perf_counter()
    output = subprocess.DEVNULL if quiet else None
    child = subprocess.Popen(command, stdout=output, stderr=output, cwd=cwd)
    cpu, peak, tree, startup_cpu, roles = {}, {}, {child.pid}, None, {}
    with MemoryPeak(root=child.pid) as memory:  # sampled as `run` samples it for its manifest
        while child.poll() is None:
            table = processes()
            grown = True
            while grown:  # descendants of descendants: a server's workers
                new = {pid for pid, (parent, _, _) in table.items() if parent in tree and pid not in tree}
                tree |= new
                grown = bool(new)
            living = tree & table.keys()
            for pid in living:
                roles.setdefault(pid, role(pid))
                _, seconds, resident = table[pid]
                cpu[pid], peak[pid] = seconds, max(peak.get(pid, 0), resident)
            if startup_cpu is None and time.perf_counter() - started >= STARTUP_S:
                startup_cpu = (sum(cpu.values()), time.perf_counter() - started)
            time.sleep(INTERVAL_S)
    wall = time.perf_counter() - started
    pss = memory.stop() or {"peak_pss_mb": float("nan")}  # the figures taken on leaving the block
    cpu_s = sum(cpu.values())
    startup = startup_cpu[0] / startup_cpu[1] if startup_cpu else cpu_s / wall
    return {"wall_s": wall, "cpu_s": cpu_s, "cores": cpu_s / wall, "startup_cores": startup,
            "processes": len(cpu), "peak_rss_mb": max(peak.values(), default=0) / 2**20,
            "peak_pss_sum_mb": pss["peak_pss_mb"], "exit_code": child.returncode,
            "per_process": [(pid, roles[pid], cpu[pid], peak[pid] / 2**20) for pid in sorted(cpu)]}  # fmt: skip


if __name__ == "__main__":
    figures = account(sys.argv[1:])
    print("wall {wall_s:.1f} s, CPU {cpu_s:.1f} s over {processes} processes ({cores:.2f} cores busy; "
          "{startup_cores:.2f} in the first 10 s), all processes' PSS summed at peak {peak_pss_sum_mb:.0f} MB, "
          "largest process's peak RSS {peak_rss_mb:.0f} MB, exit code {exit_code}".format(**figures),
          file=sys.stderr)  # fmt: skip
    for pid, name, seconds, resident in figures["per_process"]:
        print(f"  pid {pid}: CPU {seconds:.1f} s, peak RSS {resident:.0f} MB  {name}", file=sys.stderr)
    sys.exit(figures["exit_code"])
