"""The shared access token: one refresh under concurrency, compare-and-set, bounded retries."""

from __future__ import annotations

import os
import threading

import pytest

from bot.fake_wechat import Fault
from bot.wechat.api import DatabaseTokenStore, RedisTokenStore, TokenUnavailable, connect


def stores(app, n):
    runtime = app.extensions["unionbot"]
    return [DatabaseTokenStore(runtime.session_factory, runtime.settings.wechat) for _ in range(n)]


def test_token_is_fetched_once_and_shared(app, fake):
    first, second = stores(app, 2)
    assert first.get() == second.get() == first.get()
    assert len(fake.calls_to("stable_token")) == 1


def get_at_once(contenders) -> list[str]:
    """Every store asks for the token at the same moment, as separate processes would."""
    barrier = threading.Barrier(len(contenders))
    tokens = []

    def get(store):
        barrier.wait()
        tokens.append(store.get())

    threads = [threading.Thread(target=get, args=(s,)) for s in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tokens


def test_many_processes_refresh_exactly_once(app, fake):
    tokens = get_at_once(stores(app, 8))
    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert len(fake.calls_to("stable_token")) == 1


def test_classic_endpoint_by_config(make_app, fake):
    app = make_app(wechat={"token_endpoint": "classic"})
    (store,) = stores(app, 1)
    store.get()
    assert len(fake.calls_to("token")) == 1 and not fake.calls_to("stable_token")


def test_a_stale_invalidation_never_discards_a_fresh_token(app, fake):
    a, b = stores(app, 2)
    old = a.get()
    b.invalidate(old)
    fake.stable_token = None  # WeChat hands out a new token on the next request
    new = b.get()
    assert new != old
    a.invalidate(old)  # a process that still believes in the old token
    assert a.get() == new
    assert len(fake.calls_to("stable_token")) == 2


def test_invalid_token_is_replaced_and_the_call_retried_once(make_app, fake):
    app = make_app(wechat={"token_endpoint": "classic"})
    runtime = app.extensions["unionbot"]
    api = connect(runtime.settings, runtime.session_factory)
    api.store.get()
    fake.classic(fake.app_id, fake.app_secret)  # another system fetched a classic token
    fake.set_user("o_worker")
    api.send_text("o_worker", "通知")
    sends = fake.calls_to("message/custom/send")
    assert [c["errcode"] for c in sends] == [40001, 0]
    assert len(fake.calls_to("token")) == 2


def test_persistent_token_errors_do_not_loop(api, fake):
    fake.set_user("o_worker")
    fake.inject(Fault("message/custom/send", errcode=40001, times=-1))
    with pytest.raises(Exception) as raised:
        api.send_text("o_worker", "通知")
    assert getattr(raised.value, "code", None) == 40001
    assert len(fake.calls_to("message/custom/send")) == 2


def test_failing_token_endpoint_gives_up_after_bounded_tries(api, fake):
    fake.inject(Fault("stable_token", errcode=-1, times=-1))
    with pytest.raises(TokenUnavailable):
        api.store.get()
    assert len(fake.calls_to("stable_token")) == 3


def test_wrong_secret_is_not_retried(make_app, fake):
    app = make_app(wechat={"app_secret": "wrong-secret"})
    (store,) = stores(app, 1)
    with pytest.raises(TokenUnavailable) as raised:
        store.get()
    assert raised.value.code == 40125
    assert len(fake.calls_to("stable_token")) == 1


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_stores(app, fake):
    """Token stores of several processes sharing one Redis (a fresh AppID key each test)."""
    settings = app.extensions["unionbot"].settings.wechat
    made = []

    def make(n):
        for _ in range(n):
            made.append(RedisTokenStore(REDIS_URL, settings))
        return made[-n:]

    yield make
    if made:
        made[0].redis.delete(made[0].key, made[0].lock_key)


def test_redis_store_refreshes_once_under_concurrency(redis_stores, fake):
    contenders = redis_stores(8)
    contenders[0].redis.delete(contenders[0].key)
    tokens = get_at_once(contenders)
    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert len(fake.calls_to("stable_token")) == 1


def test_redis_store_compare_and_set(redis_stores, fake):
    a, b = redis_stores(2)
    a.redis.delete(a.key)
    old = a.get()
    b.invalidate(old)
    fake.stable_token = None
    new = b.get()
    a.invalidate(old)  # stale: must not discard the new token
    assert new != old and a.get() == new


def test_connect_uses_redis_when_configured(make_app):
    app = make_app(redis={"url": REDIS_URL})
    runtime = app.extensions["unionbot"]
    assert isinstance(connect(runtime.settings, runtime.session_factory).store, RedisTokenStore)


@pytest.mark.parametrize("code", [40001, 40014, 42001])
def test_every_token_error_discards_that_token_and_retries_once(api, fake, code):
    fake.set_user("o_worker")
    api.store.get()
    fake.inject(Fault("message/custom/send", errcode=code))
    api.send_text("o_worker", "通知")
    assert [c["errcode"] for c in fake.calls_to("message/custom/send")] == [code, 0]
    assert len(fake.calls_to("stable_token")) == 2  # the failed token was dropped and refetched
