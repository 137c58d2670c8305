"""Every message and event type WeChat documents is parsed and answered sensibly."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Delivery, Follower

MENU = "回复数字或关键词"


def only_follower(db) -> Follower:
    return db.scalars(select(Follower)).one()


def last_delivery(db) -> Delivery:
    return db.scalars(select(Delivery).order_by(Delivery.id.desc())).first()


class TestFollowEvents:
    def test_subscribe_records_the_follower_and_welcomes(self, wechat, db):
        answer = wechat.send_event("o_new", "subscribe")
        assert "欢迎关注射阳县总工会" in answer.text
        assert MENU in answer.text and "12351" in answer.text
        follower = only_follower(db)
        assert (follower.openid, follower.subscribed) == ("o_new", True)
        assert follower.subscribed_at is not None

    def test_subscribe_through_a_qr_code_keeps_the_scene(self, wechat, db):
        answer = wechat.send_event("o_new", "subscribe", "qrscene_unit_union_42", Ticket="T1")
        assert "欢迎关注" in answer.text
        assert only_follower(db).subscribe_scene == "unit_union_42"

    def test_unsubscribe_marks_but_never_deletes(self, wechat, db):
        wechat.send_text("o_worker", "你好")
        answer = wechat.send_event("o_worker", "unsubscribe")
        assert answer.status == 200 and answer.body == b"success"
        follower = only_follower(db)
        assert follower.subscribed is False and follower.unsubscribed_at is not None
        assert db.query(Delivery).count() == 2  # the transcript stays

    def test_resubscribe_reactivates_the_same_follower(self, wechat, db):
        wechat.send_event("o_worker", "subscribe")
        wechat.send_event("o_worker", "unsubscribe")
        db.rollback()  # end the read snapshot
        first_id = only_follower(db).id
        assert "欢迎" in wechat.send_event("o_worker", "subscribe", "qrscene_again").text
        db.rollback()  # end the read snapshot
        follower = only_follower(db)
        assert (follower.id, follower.subscribed, follower.unsubscribed_at) == (
            first_id,
            True,
            None,
        )
        assert follower.subscribe_scene == "again"

    def test_scan_by_a_follower_shows_the_menu(self, wechat):
        answer = wechat.send_event("o_worker", "SCAN", "1234", Ticket="T2")
        assert MENU in answer.text


class TestMenuAndKeywords:
    @pytest.mark.parametrize("word", ["帮助", "菜单", "?", "？", " 帮助 ", "HELP"])
    def test_help_words_show_the_menu(self, wechat, word):
        answer = wechat.send_text("o_worker", word)
        assert answer.text.startswith(MENU)
        assert "帮扶" in answer.text and "竞赛" in answer.text and "普惠" in answer.text

    @pytest.mark.parametrize(("key", "expected"), [("HELP", MENU), ("STAFF", "人工服务请求")])
    def test_menu_clicks_route_like_keywords(self, wechat, key, expected):
        clicked = wechat.send_event("o_worker", "CLICK", key)
        assert expected in clicked.text

    def test_menu_number_routes_like_its_keyword(self, wechat):
        assert wechat.send_text("o_worker", "５").text == wechat.send_text("o_worker", "人工").text

    def test_unrecognised_text_says_so_with_menu_and_hotline(self, wechat):
        answer = wechat.send_text("o_worker", "今天天气怎么样")
        assert answer.text.startswith("抱歉，没听懂")
        assert MENU in answer.text and "12351" in answer.text

    def test_unknown_menu_key_falls_back(self, wechat):
        assert wechat.send_event("o_worker", "CLICK", "NO_SUCH_KEY").text.startswith("抱歉，没听懂")

    def test_view_event_gets_success(self, wechat, db):
        answer = wechat.send_event("o_worker", "VIEW", "https://example.org/page")
        assert answer.body == b"success"
        assert last_delivery(db).event == "view"


class TestMessageTypes:
    def test_voice_with_recognition_is_understood_as_text(self, wechat, db):
        body = wechat.xml(
            "o_worker",
            "voice",
            MediaId="VOICE1",
            Format="amr",
            Recognition="帮助。",
            MsgId=wechat.next_msg_id(),
        )
        assert wechat.deliver(body).text.startswith(MENU)
        assert last_delivery(db).content == "帮助。"

    def test_voice_without_recognition_asks_for_text(self, wechat):
        body = wechat.xml(
            "o_worker", "voice", MediaId="VOICE2", Format="amr", MsgId=wechat.next_msg_id()
        )
        assert "没能识别这段语音" in wechat.deliver(body).text

    @pytest.mark.parametrize("kind", ["image", "video", "shortvideo"])
    def test_media_outside_a_form_is_acknowledged_and_kept(self, wechat, db, kind):
        fields = {"MediaId": f"M_{kind}", "MsgId": wechat.next_msg_id()}
        fields["PicUrl" if kind == "image" else "ThumbMediaId"] = "x"
        answer = wechat.deliver(wechat.xml("o_worker", kind, **fields))
        assert answer.text.startswith("收到")
        row = last_delivery(db)
        assert (row.msg_type, row.payload["MediaId"]) == (kind, f"M_{kind}")

    def test_location_message_is_acknowledged_with_its_label(self, wechat):
        body = wechat.xml(
            "o_worker",
            "location",
            Location_X=33.77,
            Location_Y=120.25,
            Scale=15,
            Label="射阳县人民路",
            MsgId=wechat.next_msg_id(),
        )
        assert wechat.deliver(body).text.startswith("已收到位置：射阳县人民路")

    def test_link_message_is_acknowledged(self, wechat):
        body = wechat.xml(
            "o_worker",
            "link",
            Title="文章",
            Description="描述",
            Url="https://example.org/a",
            MsgId=wechat.next_msg_id(),
        )
        assert "链接" in wechat.deliver(body).text

    def test_unknown_message_type_gets_a_polite_menu(self, wechat, db):
        body = wechat.xml("o_worker", "miniprogrampage", Title="小程序", MsgId=wechat.next_msg_id())
        answer = wechat.deliver(body)
        assert answer.text.startswith("暂时无法处理这类消息") and MENU in answer.text
        assert last_delivery(db).msg_type == "miniprogrampage"


class TestSystemEvents:
    def test_location_report_is_stored_and_not_answered(self, wechat, db):
        answer = wechat.send_event("o_worker", "LOCATION", Latitude=33.7, Longitude=120.2)
        assert answer.body == b"success"
        assert last_delivery(db).payload["Latitude"] == "33.7"

    @pytest.mark.parametrize("event", ["TEMPLATESENDJOBFINISH", "MASSSENDJOBFINISH"])
    def test_job_reports_are_stored_without_creating_a_follower(self, wechat, db, event):
        answer = wechat.send_event("o_account", event, MsgID=1000001, Status="success")
        assert answer.body == b"success"
        row = last_delivery(db)
        assert (row.event, row.follower_id, row.wechat_msg_id) == (event.lower(), None, 1000001)
        assert db.query(Follower).count() == 0

    def test_subscribe_message_popup_is_parsed(self, wechat, db):
        popup = (
            "<List><TemplateId><![CDATA[TPL_AID_RESULT]]></TemplateId>"
            "<SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>"
            "<PopupScene>2</PopupScene></List>"
        )
        body = wechat.xml("o_worker", "event", Event="subscribe_msg_popup_event")
        body = body.replace(
            b"</xml>", f"<SubscribeMsgPopupEvent>{popup}</SubscribeMsgPopupEvent></xml>".encode()
        )
        assert wechat.deliver(body).body == b"success"
        row = last_delivery(db)
        assert row.event == "subscribe_msg_popup_event"
        entry = row.payload["SubscribeMsgPopupEvent"]["List"]
        assert entry["TemplateId"] == "TPL_AID_RESULT"
        assert entry["SubscribeStatusString"] == "accept"


def test_wechatpy_models_the_subscribe_message_events():
    from wechatpy import parse_message

    import bot.wechat  # noqa: F401  (registers the events)

    xml = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe_msg_sent_event</Event><SubscribeMsgSentEvent>"
        "<List><TemplateId>A</TemplateId><MsgID>9</MsgID><ErrorCode>0</ErrorCode></List>"
        "<List><TemplateId>B</TemplateId><MsgID>10</MsgID><ErrorCode>43101</ErrorCode></List>"
        "</SubscribeMsgSentEvent></xml>"
    )
    message = parse_message(xml)
    assert type(message).__name__ == "SubscribeMsgSentEvent"
    assert [item["TemplateId"] for item in message.items] == ["A", "B"]


@pytest.mark.parametrize("greeting", ["你好", "您好！", "在吗？", "Hello"])
def test_greetings_get_a_greeting_and_the_menu(wechat, greeting):
    reply = wechat.send_text("o_hi", greeting).text
    assert reply.startswith("您好！有什么可以帮您？") and "1 帮扶" in reply


def test_a_bare_申请_lists_the_aid_programmes(wechat):
    assert "可以在线申请的帮扶项目" in wechat.send_text("o_hi", "申请").text
