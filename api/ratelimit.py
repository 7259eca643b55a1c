"""Per-key fixed-window rate limit: Redis when configured (shared by every API process),
in memory otherwise (per process)."""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Protocol

import redis

UNITS = {"second": 1, "minute": 60, "hour": 3600}


def parse_rate(text: str) -> tuple[int, int]:
    """``"600/minute"`` → (600, 60)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(second|minute|hour)\s*", text)
    if not match:
        raise ValueError(f"rate limit {text!r}: expected e.g. 600/minute")
    return int(match[1]), UNITS[match[2]]


class Limiter(Protocol):
    def hit(self, key: str) -> float | None:
        """None when allowed, else seconds until the window resets."""


class MemoryLimiter:
    def __init__(self, limit: int, window_s: int) -> None:
        self.limit, self.window_s = limit, window_s
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        now = time.time()
        window = int(now // self.window_s)
        with self._lock:
            if len(self._counts) > 10_000:  # drop past windows now and then
                self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
            n = self._counts[(key, window)] = self._counts.get((key, window), 0) + 1
        return None if n <= self.limit else (window + 1) * self.window_s - now


class RedisLimiter:
    def __init__(self, url: str, limit: int, window_s: int) -> None:
        self.limit, self.window_s = limit, window_s
        self.client = redis.Redis.from_url(url, socket_timeout=2)

    def hit(self, key: str) -> float | None:
        now = time.time()
        window = int(now // self.window_s)
        name = f"qa_scoring:rate:{key}:{window}"
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, self.window_s + 1)
        n, _ = pipe.execute()
        return None if n <= self.limit else (window + 1) * self.window_s - now


def make_limiter(rate: str, redis_url: str | None) -> Limiter:
    limit, window = parse_rate(rate)
    if redis_url and redis_url.startswith(("redis://", "rediss://")):
        return RedisLimiter(redis_url, limit, window)
    return MemoryLimiter(limit, window)


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
