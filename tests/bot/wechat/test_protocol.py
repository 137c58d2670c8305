"""Reading a callback: the message object wechatpy would have made, from one parse."""

from __future__ import annotations

import pytest
from wechatpy import parse_message

from bot.config import WeChatSettings
from bot.wechat.protocol import read_callback

HEAD = "<ToUserName>gh_union</ToUserName><FromUserName>o_worker</FromUserName>"
HEAD += "<CreateTime>1764460800</CreateTime>"
BODIES = {
    "text": "<MsgType>text</MsgType><Content>你好</Content><MsgId>9001</MsgId>",
    "voice": "<MsgType>voice</MsgType><MediaId>m1</MediaId><Format>amr</Format>"
    "<Recognition>我想申请帮扶。</Recognition><MsgId>9002</MsgId>",
    "image": "<MsgType>image</MsgType><PicUrl>http://x/p.jpg</PicUrl><MediaId>m2</MediaId>"
    "<MsgId>9003</MsgId>",
    "location": "<MsgType>location</MsgType><Location_X>33.77</Location_X>"
    "<Location_Y>120.25</Location_Y><Scale>15</Scale><Label>射阳县</Label><MsgId>9004</MsgId>",
    "unknown type": "<MsgType>miniprogrampage</MsgType><Title>t</Title><MsgId>9005</MsgId>",
    "qr follow": "<MsgType>event</MsgType><Event>subscribe</Event>"
    "<EventKey>qrscene_town_hd</EventKey><Ticket>t</Ticket>",
    "click": "<MsgType>event</MsgType><Event>CLICK</Event><EventKey>AID</EventKey>",
}


@pytest.mark.parametrize("kind", list(BODIES))
def test_the_message_is_the_one_wechatpy_would_make(kind):
    body = f"<xml>{HEAD}{BODIES[kind]}</xml>".encode()
    callback = read_callback(WeChatSettings(token="t"), {}, body)
    expected = parse_message(body)

    assert type(callback.message) is type(expected)
    assert callback.message._data == expected._data
    assert (callback.message.source, callback.message.target) == ("o_worker", "gh_union")
