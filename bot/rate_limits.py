"""WeChat's rate limits per API, counted in the database so all drainers together keep them.

Each drainer takes permits for the current time window in small blocks (one
short transaction per block, not per call) and spends them locally.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

from bot import Runtime
from models.coordination import take_permits
from models.database import serialised

# No call starts in the last 5 % of a window (see Permits._take).
GUARD_BAND = 0.05


class Permits:
    """Calls per API per time window, shared by all drainers through the database."""

    def __init__(
        self,
        runtime: Runtime,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        o = runtime.settings.outbox
        self.limits = {
            "custom": (o.custom_per_second, 1),
            "template": (o.template_per_second, 1),
            "mass": (o.mass_per_minute, 60),
            "media": (o.media_per_second, 1),
        }
        self.session_factory = runtime.session_factory
        self.clock = clock
        self.sleep = sleep
        self.held: dict[str, tuple[int, int]] = {}  # api -> (window, permits left)
        self.lock = threading.Lock()

    def take(self, api: str, batch_hint: int = 1) -> dt.datetime | None:
        """Take one permit; return None if granted, else when the next window opens."""
        with self.lock:
            return self._take(api, batch_hint)

    def _take(self, api: str, batch_hint: int) -> dt.datetime | None:
        limit, width = self.limits[api]
        now = self.clock()
        window = int(now // width)
        # No call starts in the last 5 % of a window: one started there could
        # arrive in the next window and push that one over the limit.
        window_end = (window + 1) * width
        if window_end - now < width * GUARD_BAND:
            self.sleep(window_end - now)
            now = self.clock()
            window = int(now // width)
        held_window, left = self.held.get(api, (window, 0))
        if held_window == window and left > 0:
            self.held[api] = (window, left - 1)
            return None
        with serialised(self.session_factory) as session, session.begin():
            granted = take_permits(session, api, window, max(1, min(batch_hint, limit)), limit)
        if granted:
            self.held[api] = (window, granted - 1)
            return None
        return dt.datetime.fromtimestamp((window + 1) * width, dt.UTC)
