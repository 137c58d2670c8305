"""The ``[outbox]`` section: draining, retries until a deadline, rate limits, the breaker."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config_values import ConfigError

# WeChat deletes a temporary media file (a photo a worker sent) three days after upload.
WECHAT_MEDIA_HOURS = 72.0
# Kinds of notice that stop being useful sooner than the default deadline: a slow
# reply answers a question asked today; a reminder is pointless once the event began.
DEADLINE_HOURS_BY_KIND = {"reply": 24.0, "competition_reminder": 24.0}


@dataclass(frozen=True)
class OutboxSettings:
    drain_interval_seconds: float = 1.0
    batch_size: int = 50
    send_concurrency: int = 16
    lease_seconds: int = 60
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 900.0
    # Busy and network errors are retried until the message's deadline, counted from
    # when it was queued (a row may also carry its own, e.g. an event's start).
    deadline_hours: float = 168.0
    deadline_hours_by_kind: dict = field(default_factory=lambda: dict(DEADLINE_HOURS_BY_KIND))
    media_deadline_hours: float = WECHAT_MEDIA_HOURS
    # Circuit breaker per WeChat API: opens after this many busy/network errors in a
    # row (0 = never), then lets one probe through after a cool-down that doubles
    # while the outage lasts, up to the maximum.
    breaker_failures: int = 5
    breaker_cooldown_seconds: float = 5.0
    breaker_cooldown_max_seconds: float = 120.0
    reply_budget_seconds: float = 4.0
    custom_window_hours: int = 48
    custom_window_budget: int = 5
    custom_per_second: int = 100
    template_per_second: int = 100
    mass_per_minute: int = 60
    media_per_second: int = 20
    media_dir: str = "media"
    templates: dict = field(default_factory=dict)
    subscribe_templates: dict = field(default_factory=dict)

    def validate(self) -> None:
        positive = (
            "drain_interval_seconds",
            "batch_size",
            "send_concurrency",
            "lease_seconds",
            "backoff_base_seconds",
            "backoff_max_seconds",
            "deadline_hours",
            "media_deadline_hours",
            "breaker_cooldown_seconds",
            "breaker_cooldown_max_seconds",
            "reply_budget_seconds",
            "custom_window_hours",
            "custom_per_second",
            "template_per_second",
            "mass_per_minute",
            "media_per_second",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"outbox.{name}", "must be positive")
        if self.reply_budget_seconds >= 5:
            raise ConfigError("outbox.reply_budget_seconds", "must be under WeChat's 5 seconds")
        if self.custom_window_budget < 0:
            raise ConfigError("outbox.custom_window_budget", "must be 0 or more")
        if self.media_deadline_hours > WECHAT_MEDIA_HOURS:
            raise ConfigError(
                "outbox.media_deadline_hours", "at most 72: WeChat deletes media after 3 days"
            )
        if self.breaker_failures < 0:
            raise ConfigError("outbox.breaker_failures", "must be 0 (off) or more")
        if self.breaker_cooldown_max_seconds < self.breaker_cooldown_seconds:
            raise ConfigError(
                "outbox.breaker_cooldown_max_seconds", "must be at least breaker_cooldown_seconds"
            )
        for kind, hours in self.deadline_hours_by_kind.items():
            if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
                raise ConfigError(f"outbox.deadline_hours_by_kind.{kind}", "must be positive hours")
        for table in ("templates", "subscribe_templates"):
            for kind, template_id in getattr(self, table).items():
                if not isinstance(template_id, str) or not template_id:
                    raise ConfigError(f"outbox.{table}.{kind}", "must be a template id string")

    def deadline_hours_for(self, kind: str) -> float:
        """How long a notice or mass send of ``kind`` is worth trying for."""
        return float(self.deadline_hours_by_kind.get(kind, self.deadline_hours))
