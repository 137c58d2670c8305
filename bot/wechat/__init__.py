"""The WeChat callback protocol: signatures, safe-mode crypto, parsing and reply XML.

Nothing here knows about unions or conversations; it turns an HTTP request into
a parsed message and a list of replies back into the XML WeChat expects.
"""

from bot.wechat import events as _events  # noqa: F401  (registers the subscribe-message events)
