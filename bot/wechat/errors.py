"""What a call to WeChat's API can end in, besides an answer."""

from __future__ import annotations

import datetime as dt

# WeChat is busy (-1) or an API's quota is spent for now (45009 daily, 45011 per
# minute): the call may work later, and so may every other call to that API.
BUSY = frozenset({-1, 45009, 45011})


class ApiError(Exception):
    """A call to WeChat failed. ``code`` is WeChat's errcode, or None for a network/HTTP failure.

    ``uncertain``: the request went out and no answer came back (a read timeout, a
    connection cut mid-answer), so WeChat may have acted on it.
    """

    def __init__(self, code: int | None, message: str, *, uncertain: bool = False):
        super().__init__(f"{code}: {message}" if code is not None else message)
        self.code = code
        self.message = message
        self.uncertain = uncertain

    @property
    def outage(self) -> bool:
        """WeChat (or the way to it) is busy or down, not refusing this one request."""
        return self.code is None or self.code in BUSY


class TokenUnavailable(ApiError):
    """The token endpoint kept failing; callers wait and try later."""


class BreakerOpen(ApiError):
    """Calls to ``api`` are paused by its circuit breaker; none was made."""

    def __init__(self, api: str, retry_at: dt.datetime):
        super().__init__(None, f"微信接口 {api} 暂停调用（熔断），{retry_at:%H:%M:%S} UTC 后再试")
        self.api = api
        self.retry_at = retry_at
