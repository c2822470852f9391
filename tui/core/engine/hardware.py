"""What the machine offers: physical cores and memory, read without extra dependencies."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def physical_cores() -> int:
    """Physical cores, not hardware threads: llama.cpp decodes fastest with one thread per core."""
    system = platform.system()
    if system == "Linux":
        count = _linux_physical_cores(Path("/proc/cpuinfo"))
        if count:
            return min(count, _usable_cpus())
    elif system == "Darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-n", "hw.physicalcpu"], capture_output=True, text=True, check=True
            )
            return max(1, int(out.stdout.strip()))
        except (OSError, ValueError, subprocess.CalledProcessError):
            pass
    return _usable_cpus()


def _usable_cpus() -> int:
    """CPUs this process may run on (respects taskset and container limits where visible)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _linux_physical_cores(cpuinfo: Path) -> int:
    """Count distinct (physical id, core id) pairs; 0 when the file does not say."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0
    cores: set[tuple[str, str]] = set()
    physical = core = ""
    for line in text.splitlines() + [""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            core = value.strip()
        elif not line.strip():
            if core:
                cores.add((physical, core))
            physical = core = ""
    return len(cores)


def available_memory_bytes() -> int | None:
    """Memory the system could give us now (Linux MemAvailable); None when unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def gpu_free_memory_bytes() -> int | None:
    """Free memory of the first NVIDIA GPU (via nvidia-smi); None where that cannot be asked."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return int(out.stdout.split()[0]) * 1024 * 1024
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None
