"""Shared helpers of the benchmarks: varied contracts, timing, medians."""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from generator.load import load_data

ROOT = Path(__file__).resolve().parent.parent


def contracts(count: int) -> list[dict[str, Any]]:
    """Return ``count`` valid contracts varied from the seed (numbers, names, amounts)."""
    seed = dict(load_data(ROOT / "samples" / "seed.yaml"))
    out = []
    for n in range(count):
        data = copy.deepcopy(seed)
        data["contract_no"] = f"BENCH{n:05d}"
        data["supplier"]["name"] = f"上海第{n}号信息技术有限公司"
        data["amount"] = str(Decimal(100000 + 137 * n) + Decimal("0.25") * (n % 4))
        out.append(data)
    return out


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> Path:
    """Write contracts as a JSON-lines batch file."""
    with open(path, "w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")
    return path


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Return the wall times of running an action ``repeat`` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    """Return the median (the machines are shared and noisy)."""
    return statistics.median(values)
