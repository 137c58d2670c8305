"""The ``[campaigns]`` section: the account's mass-send quotas, quiet hours, batch sizes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config_values import ConfigError

CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class CampaignSettings:
    # WeChat's mass-send quotas (群发): a service account's followers each receive at
    # most 4 mass messages a month; a subscription account may mass-send once a day.
    # WeChat changes these now and then, so they are settings, not constants.
    mass_per_follower_per_month: int = 4
    mass_sends_per_day: int = 1
    # Nothing is sent between these local (Asia/Shanghai) times; a send that falls
    # due then waits for the end of the quiet hours.
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    # Followers read and planned per transaction (memory stays flat), and openids per
    # mass-send call (WeChat takes 2 to 10,000).
    plan_batch_size: int = 1000
    mass_batch_size: int = 10_000
    # A campaign notice to one worker is not worth sending after this long.
    notice_deadline_hours: float = 72.0
    # How often the scheduler looks for send times that came due.
    tick_seconds: float = 30.0

    def validate(self) -> None:
        for name in ("mass_per_follower_per_month", "mass_sends_per_day"):
            if getattr(self, name) < 0:
                raise ConfigError(f"campaigns.{name}", "must be 0 or more")
        for name in ("quiet_start", "quiet_end"):
            if not CLOCK.match(getattr(self, name)):
                raise ConfigError(f"campaigns.{name}", "must be a 24-hour time such as 21:00")
        if not 1 <= self.plan_batch_size <= 50_000:
            raise ConfigError("campaigns.plan_batch_size", "must be 1 to 50000")
        if not 2 <= self.mass_batch_size <= 10_000:
            raise ConfigError("campaigns.mass_batch_size", "must be 2 to 10000 (WeChat's limits)")
        if not 1 <= self.tick_seconds <= 300:
            raise ConfigError("campaigns.tick_seconds", "must be 1 to 300 seconds")
        if self.notice_deadline_hours <= 0:
            raise ConfigError("campaigns.notice_deadline_hours", "must be positive")
