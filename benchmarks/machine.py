"""One line that says which machine a benchmark ran on (for the records)."""

import os
import platform
from pathlib import Path

import numpy as np
import scipy


def describe():
    """CPU model, cores, system, and the Python, numpy and scipy versions."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, "
            f"numpy {np.__version__}, scipy {scipy.__version__}")


def load_average():
    """The one-minute load average, or NaN where the system has none."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
