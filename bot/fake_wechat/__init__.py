"""A faithful loopback stand-in for WeChat's official-account API (``unionbot fake-wechat``).

WeChat's servers cannot be reached from our machines; this fake answers the
documented endpoints with the documented JSON shapes and error codes, checks
access tokens, enforces the 48-hour customer-service window and mass-send
limits, records every call and can inject any error, latency or outage.
"""

from bot.fake_wechat.app import create_fake_app
from bot.fake_wechat.state import FakeWeChat, Fault, WeChatError

__all__ = ["FakeWeChat", "Fault", "WeChatError", "create_fake_app"]
