"""Encryption at rest: what a worker tells the bot is unreadable in the database without the key.

Covers the keyring itself, what the raw rows hold after a real webhook delivery, the
CLI's refusal of a wrong key, key rotation with ``unionbot reencrypt``, and migration
0002 encrypting (and, going down, decrypting) rows that existed before it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot import create_app
from bot.config import DEMO_DATA_KEY, decode_data_key, load_settings
from models import Delivery, Follower, crypto
from models.base import UTCDateTime
from models.conversation import Conversation, get_conversation
from models.crypto import DataKeyError, Keyring, key_id
from models.database import make_engine
from models.migrate import alembic_config, schema_status
from tests.conftest import TOKEN, backend_name, make_settings, simulator_for
from tests.helpers import unionbot

ID_NUMBER = "320924198503120022"
LABEL = "射阳县合德镇人民中路88号"
SECRET = "s" * 32


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture(autouse=True)
def _restore_keyring():
    """Tests install keyrings process-wide; put back whatever was there before."""
    saved = crypto._keyring
    yield
    crypto._keyring = saved


@pytest.fixture
def scratch_url(database_url, tmp_path) -> Iterator[str]:
    """An empty database of the backend under test, for this test alone."""
    if backend_name(database_url) == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"unionbot_privacy_{secrets.token_hex(4)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_config(path, url: str, data_key: str = "", retired: str = "", index_key: str = ""):
    lines = [
        "[wechat]",
        f'token = "{TOKEN}"',
        "[security]",
        f'secret_key = "{SECRET}"',
    ]
    if data_key:
        lines.append(f'data_key = "{data_key}"')
    if retired:
        lines.append(f'retired_data_keys = "{retired}"')
    if index_key:
        lines.append(f'index_key = "{index_key}"')
    lines += ["[database]", f'url = "{url}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def only_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def index_of(old_key: str, cwd) -> str:
    """What ``unionbot gen-key --index-of OLD`` tells an operator to pin."""
    result = unionbot("gen-key", "--index-of", old_key, cwd=cwd)
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r'index_key = "([^"]+)"', result.stdout.strip())
    assert match, result.stdout
    return match.group(1)


# Keyring


class TestKeyring:
    def test_round_trip_keeps_text_exactly(self):
        ring = Keyring(os.urandom(32))
        for value in ("", ID_NUMBER, "张三 患有糖尿病：月收入 1800 元", "a:b:c", "]]>\0"):
            assert ring.decrypt(ring.encrypt(value)) == value

    def test_token_names_its_key_and_hides_the_value(self):
        ring = Keyring(os.urandom(32))
        token = ring.encrypt(ID_NUMBER)
        assert token.startswith(ring.current_id + ":")
        assert ID_NUMBER not in token
        assert ID_NUMBER not in base64.b64decode(token.partition(":")[2]).decode("latin-1")

    def test_same_value_encrypts_differently_each_time(self):
        ring = Keyring(os.urandom(32))
        tokens = {ring.encrypt(ID_NUMBER) for _ in range(5)}
        assert len(tokens) == 5

    def test_tampered_ciphertext_is_refused(self):
        ring = Keyring(os.urandom(32))
        kid, _, body = ring.encrypt(ID_NUMBER).partition(":")
        raw = bytearray(base64.b64decode(body))
        raw[-1] ^= 1
        flipped = f"{kid}:{base64.b64encode(bytes(raw)).decode()}"
        with pytest.raises(DataKeyError, match="failed authentication"):
            ring.decrypt(flipped)

    @pytest.mark.parametrize(
        "damage",
        [
            lambda kid, body: f"{kid}:{body[:-5]}",  # cut short: bad base64 padding
            lambda kid, body: f"{kid}:{body[:8]}",  # shorter than a nonce
            lambda kid, body: f"{kid}:",  # nothing left
            lambda kid, body: f"{kid}:{body[:-4]}",  # tag cut off
        ],
    )
    def test_damaged_token_is_a_data_key_error(self, damage):
        # A corrupted value must stop the CLI with one line, not a traceback.
        ring = Keyring(os.urandom(32))
        kid, _, body = ring.encrypt(ID_NUMBER).partition(":")
        with pytest.raises(DataKeyError):
            ring.decrypt(damage(kid, body))

    def test_token_moved_to_another_key_id_is_refused(self):
        a, b = os.urandom(32), os.urandom(32)
        ring = Keyring(a, retired=(b,))
        _, _, body = ring.encrypt(ID_NUMBER).partition(":")
        with pytest.raises(DataKeyError):
            ring.decrypt(f"{key_id(b)}:{body}")

    def test_plaintext_in_an_encrypted_column_is_refused_without_echoing_it(self):
        ring = Keyring(os.urandom(32))
        with pytest.raises(DataKeyError) as raised:
            ring.decrypt(f"身份证:{ID_NUMBER}")
        assert ID_NUMBER not in str(raised.value)
        with pytest.raises(DataKeyError) as raised:
            ring.decrypt(ID_NUMBER)
        assert ID_NUMBER not in str(raised.value)

    def test_value_under_retired_key_decrypts_only_while_that_key_is_configured(self):
        old, new = os.urandom(32), os.urandom(32)
        token = Keyring(old).encrypt(ID_NUMBER)
        assert Keyring(new, retired=(old,)).decrypt(token) == ID_NUMBER
        with pytest.raises(DataKeyError) as raised:
            Keyring(new).decrypt(token)
        assert key_id(old) in str(raised.value)
        assert "retired_data_keys" in str(raised.value)

    def test_new_values_are_written_under_the_current_key_only(self):
        old, new = os.urandom(32), os.urandom(32)
        token = Keyring(new, retired=(old,)).encrypt(ID_NUMBER)
        assert token.startswith(key_id(new) + ":")
        assert Keyring(new).decrypt(token) == ID_NUMBER

    def test_lookup_hash_is_stable_and_separated_by_purpose(self):
        key = os.urandom(32)
        ring = Keyring(key)
        first = ring.lookup_hash("id_number", ID_NUMBER)
        assert first == Keyring(key).lookup_hash("id_number", ID_NUMBER)
        assert ID_NUMBER not in first
        assert first != ring.lookup_hash("phone", ID_NUMBER)
        assert first != ring.lookup_hash("id_number", "320924198503120030")
        assert first != Keyring(os.urandom(32)).lookup_hash("id_number", ID_NUMBER)

    def test_module_lookup_hash_uses_the_installed_keyring(self, monkeypatch):
        monkeypatch.setattr(crypto, "_keyring", None)
        with pytest.raises(DataKeyError):
            crypto.lookup_hash("id_number", ID_NUMBER)
        ring = Keyring(os.urandom(32))
        crypto.install(ring)
        assert crypto.lookup_hash("id_number", ID_NUMBER) == ring.lookup_hash(
            "id_number", ID_NUMBER
        )

    def test_lookup_hash_survives_rotation_when_index_key_is_pinned(self, tmp_path):
        old, new = new_key(), new_key()
        before = Keyring(decode_data_key(old)).lookup_hash("id_number", ID_NUMBER)
        pinned = index_of(old, tmp_path)
        config = write_config(
            tmp_path / "rotated.toml",
            f"sqlite:///{tmp_path / 'x.db'}",
            data_key=new,
            retired=old,
            index_key=pinned,
        )
        rotated = load_settings(config, env={}).security.keyring()
        assert rotated.lookup_hash("id_number", ID_NUMBER) == before
        # Without the pin, every stored lookup hash would stop matching.
        unpinned = Keyring(decode_data_key(new), retired=(decode_data_key(old),))
        assert unpinned.lookup_hash("id_number", ID_NUMBER) != before

    def test_gen_key_index_of_rejects_a_bad_key(self, tmp_path):
        result = unionbot("gen-key", "--index-of", "not-a-key", cwd=tmp_path)
        assert result.returncode != 0
        assert only_line(result.stderr).startswith("unionbot: --index-of")

    def test_gen_key_prints_a_usable_data_key(self, tmp_path):
        result = unionbot("gen-key", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        match = re.search(r'^data_key = "([^"]+)"$', result.stdout, re.M)
        assert match, result.stdout
        ring = Keyring(decode_data_key(match.group(1)))
        assert ring.decrypt(ring.encrypt(ID_NUMBER)) == ID_NUMBER


# Raw rows after real deliveries


def raw_values(session: Session, sql: str, **params) -> list:
    return [value for row in session.execute(text(sql), params) for value in row]


class TestRawRows:
    def test_transcript_hides_id_number_and_location(self, app, wechat, db):
        ring = app.extensions["unionbot"].settings.security.keyring()
        said = f"我的身份证号是{ID_NUMBER}，想申请困难补助"
        assert wechat.send_text("o_private", said).status == 200
        located = wechat.deliver(
            wechat.xml(
                "o_locating",
                "location",
                Location_X=33.7746,
                Location_Y=120.2547,
                Scale=15,
                Label=LABEL,
                MsgId=wechat.next_msg_id(),
            )
        )
        assert located.status == 200

        stored = raw_values(
            db,
            "SELECT content, payload, replies FROM deliveries"
            " WHERE openid IN ('o_private', 'o_locating') ORDER BY id",
        )
        assert len(stored) == 6
        assert stored[0] is not None and stored[4] is not None  # the payloads
        for value in stored:
            if value is None:
                continue
            assert isinstance(value, str)
            assert value.startswith(ring.current_id + ":"), value
            assert ID_NUMBER not in value
            assert LABEL not in value
        # Whatever flow the message started keeps its draft encrypted too.
        drafts = raw_values(
            db,
            "SELECT data FROM conversations JOIN followers ON followers.id = follower_id"
            " WHERE openid = 'o_private'",
        )
        for draft in drafts:
            assert draft.startswith(ring.current_id + ":")
            assert ID_NUMBER not in draft

        text_row, location_row = db.scalars(
            select(Delivery)
            .where(Delivery.openid.in_(["o_private", "o_locating"]))
            .order_by(Delivery.id)
        ).all()
        assert text_row.content == said
        assert location_row.payload["Label"] == LABEL
        assert location_row.payload["Location_X"] in ("33.7746", 33.7746)
        # The bot's reply echoes the label, so the stored replies are sensitive too; the ORM
        # gives back exactly what the worker saw.
        assert LABEL in located.text
        assert location_row.replies == [{"type": "text", "content": located.text}]

    def test_conversation_draft_is_encrypted(self, app, db):
        ring = app.extensions["unionbot"].settings.security.keyring()
        follower = Follower(openid="o_drafting")
        db.add(follower)
        db.flush()
        draft = {"id_number": ID_NUMBER, "name": "张三", "address": LABEL}
        db.add(Conversation(follower_id=follower.id, flow="aid", step="income", data=draft))
        db.commit()

        (raw,) = raw_values(
            db, "SELECT data FROM conversations WHERE follower_id = :id", id=follower.id
        )
        assert raw.startswith(ring.current_id + ":")
        for secret_part in (ID_NUMBER, "张三", LABEL):
            assert secret_part not in raw

        with app.extensions["unionbot"].session_factory() as fresh:
            assert get_conversation(fresh, follower.id).data == draft

    def test_nothing_is_written_without_a_keyring(self, app, db, monkeypatch):
        monkeypatch.setattr(crypto, "_keyring", None)
        db.add(
            Delivery(
                dedupe_key="no-key",
                openid="o_nokey",
                msg_type="text",
                content=ID_NUMBER,
                sent_at=dt.datetime.now(dt.UTC),
            )
        )
        with pytest.raises((DataKeyError, sa.exc.StatementError), match="no data key installed"):
            db.flush()
        db.rollback()
        assert raw_values(db, "SELECT content FROM deliveries WHERE openid = 'o_nokey'") == []


# Wrong or missing key, through the CLI


class TestWrongKey:
    def test_a_different_data_key_is_refused_in_one_line(self, tmp_path):
        url = f"sqlite:///{tmp_path / 'prod.db'}"
        right = write_config(tmp_path / "right.toml", url, data_key=new_key())
        wrong = write_config(tmp_path / "wrong.toml", url, data_key=new_key())

        created = unionbot("init-db", "--config", right, cwd=tmp_path)
        assert created.returncode == 0, created.stderr
        assert "database ready" in created.stdout
        again = unionbot("init-db", "--config", right, cwd=tmp_path)
        assert again.returncode == 0, again.stderr

        for command_args in (
            ("init-db",),
            ("add-staff", "alice", "--password", "long-enough-pw"),
            ("reencrypt",),
        ):
            refused = unionbot(*command_args, "--config", wrong, cwd=tmp_path)
            assert refused.returncode != 0, command_args
            line = only_line(refused.stderr)
            assert line.startswith("unionbot: data key error:"), line

        # The refused key left no trace: the right key still works alone.
        still = unionbot("init-db", "--config", right, cwd=tmp_path)
        assert still.returncode == 0, still.stderr
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM key_checks")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM staff_users")).scalar() == 0
        engine.dispose()

    def test_missing_data_key_outside_demo_mode_is_refused(self, tmp_path):
        config = write_config(tmp_path / "nokey.toml", f"sqlite:///{tmp_path / 'prod.db'}")
        refused = unionbot("init-db", "--config", config, cwd=tmp_path)
        assert refused.returncode != 0
        line = only_line(refused.stderr)
        assert line.startswith("unionbot: config error: security.data_key: required"), line
        assert not (tmp_path / "prod.db").exists()

    def test_malformed_data_key_is_refused(self, tmp_path):
        config = write_config(
            tmp_path / "short.toml", f"sqlite:///{tmp_path / 'prod.db'}", data_key="c2hvcnQ="
        )
        refused = unionbot("init-db", "--config", config, cwd=tmp_path)
        assert refused.returncode != 0
        assert only_line(refused.stderr).startswith("unionbot: config error: security.data_key")

    def test_demo_mode_uses_the_public_demo_key(self, tmp_path):
        settings = load_settings(env={})
        assert settings.demo.enabled
        assert settings.security.keyring().current == decode_data_key(DEMO_DATA_KEY)


# Rotation


def raw_tokens(url: str) -> list[str]:
    """Every stored encrypted value (transcripts, drafts, applications) as stored."""
    columns = sorted(
        {
            (model.__table__.name, model.__table__.c[attr].name)
            for model, attr in crypto.encrypted_columns()
        }
        - {("key_checks", "check_value")}
    )
    assert ("deliveries", "content") in columns and ("conversations", "data") in columns
    engine = make_engine(url)
    with engine.connect() as conn:
        tokens = [
            value
            for table, column in columns
            for value in conn.execute(
                text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
            ).scalars()
        ]
    engine.dispose()
    return tokens


def test_rotation_rewrites_every_value_under_the_new_key(scratch_url, fake_server, tmp_path):
    old, new = new_key(), new_key()
    old_id, new_id = key_id(decode_data_key(old)), key_id(decode_data_key(new))
    config_a = write_config(tmp_path / "a.toml", scratch_url, data_key=old)
    created = unionbot("init-db", "--config", config_a, cwd=tmp_path)
    assert created.returncode == 0, created.stderr

    # A running app writes under key A.
    app = create_app(
        make_settings(scratch_url, fake_server[1] + "/cgi-bin/", security={"data_key": old})
    )
    wechat = simulator_for(app)
    said = [f"身份证{ID_NUMBER}", "帮助", "人工"]
    for line in said:
        assert wechat.send_text("o_rotating", line).status == 200
    factory = app.extensions["unionbot"].session_factory
    with factory.begin() as session:
        follower = session.scalars(select(Follower).where(Follower.openid == "o_rotating")).one()
        follower_id = follower.id
        draft = {"id_number": ID_NUMBER}
        abandoned = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        session.merge(
            Conversation(
                follower_id=follower_id,
                flow="aid",
                step="x",
                data=draft,
                started_at=abandoned,
                updated_at=abandoned,
            )
        )
    app.extensions["unionbot"].engine.dispose()

    before = raw_tokens(scratch_url)
    assert before and all(token.startswith(old_id + ":") for token in before)
    lookup_before = Keyring(decode_data_key(old)).lookup_hash("id_number", ID_NUMBER)

    # Forgetting to keep A as retired is refused, naming A.
    config_b_only = write_config(tmp_path / "b-only.toml", scratch_url, data_key=new)
    refused = unionbot("reencrypt", "--config", config_b_only, cwd=tmp_path)
    assert refused.returncode != 0
    line = only_line(refused.stderr)
    assert line.startswith("unionbot: data key error:") and old_id in line, line

    pinned = index_of(old, tmp_path)
    config_b = write_config(
        tmp_path / "b.toml", scratch_url, data_key=new, retired=old, index_key=pinned
    )
    rotated = unionbot("reencrypt", "--config", config_b, cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.strip() == f"re-encrypted {len(before)} values under data key {new_id}"

    after = raw_tokens(scratch_url)
    assert len(after) == len(before)
    assert all(token.startswith(new_id + ":") for token in after), after
    assert not set(after) & set(before)

    again = unionbot("reencrypt", "--config", config_b, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"re-encrypted 0 values under data key {new_id}"

    # A is no longer needed: B alone (index pinned) starts, and reads everything.
    config_final = write_config(
        tmp_path / "final.toml", scratch_url, data_key=new, index_key=pinned
    )
    ready = unionbot("init-db", "--config", config_final, cwd=tmp_path)
    assert ready.returncode == 0, ready.stderr
    # ... while the old key alone is now refused.
    stale = unionbot("init-db", "--config", config_a, cwd=tmp_path)
    assert stale.returncode != 0
    assert only_line(stale.stderr).startswith("unionbot: data key error:")

    settings = load_settings(config_final, env={})
    ring = settings.security.keyring()
    crypto.install(ring)
    engine = make_engine(scratch_url)
    with Session(engine) as session:
        contents = session.scalars(
            select(Delivery.content).where(Delivery.msg_type == "text").order_by(Delivery.id)
        ).all()
        assert contents == said
        conversation = session.get(Conversation, (follower_id, "aid"))
        assert conversation.data == draft
        # Rotation is not activity: the abandoned draft keeps its age for the retention purge.
        assert conversation.updated_at == abandoned
        replies = session.scalars(select(Delivery.replies)).all()
        assert all(isinstance(r, list) for r in replies)
    engine.dispose()
    assert ring.lookup_hash("id_number", ID_NUMBER) == lookup_before


# Migration 0002


def insert_plaintext_rows(engine, content: str, payload: dict, replies: list, draft: dict):
    at = dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.UTC)
    typed = [
        sa.bindparam("at", type_=UTCDateTime()),
        sa.bindparam("payload", type_=sa.JSON()),
        sa.bindparam("replies", type_=sa.JSON()),
        sa.bindparam("data", type_=sa.JSON()),
        sa.bindparam("yes", type_=sa.Boolean()),
        sa.bindparam("no", type_=sa.Boolean()),
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO followers (id, openid, subscribed, is_demo, created_at) "
                "VALUES (1, 'o_legacy', :yes, :no, :at)"
            ).bindparams(*typed[0:1], *typed[4:]),
            {"at": at, "yes": True, "no": False},
        )
        conn.execute(
            text(
                "INSERT INTO deliveries (id, dedupe_key, openid, follower_id, msg_type, content,"
                " payload, sent_at, received_at, status, replies) VALUES (1, 'legacy:1',"
                " 'o_legacy', 1, 'text', :content, :payload, :at, :at, 'handled', :replies)"
            ).bindparams(*typed[0:3]),
            {"content": content, "payload": payload, "replies": replies, "at": at},
        )
        conn.execute(
            text(
                "INSERT INTO conversations (follower_id, flow, step, data, started_at,"
                " updated_at) VALUES (1, 'aid', 'income', :data, :at, :at)"
            ).bindparams(typed[0], typed[3]),
            {"data": draft, "at": at},
        )


def raw_legacy_row(engine) -> tuple:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text("SELECT content, payload, replies FROM deliveries WHERE id = 1")
            ).one()
        )


def raw_drafts(engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT data FROM conversations")).scalars())


def as_json(value):
    """JSON columns come back parsed on PostgreSQL and as text on SQLite."""
    return json.loads(value) if isinstance(value, str) else value


LEGACY_CONTENT = f"身份证{ID_NUMBER}，住{LABEL}"
LEGACY_PAYLOAD = {"Label": LABEL, "Location_X": "33.7746"}
LEGACY_REPLIES = [{"type": "text", "content": f"已收到位置：{LABEL}。"}]
LEGACY_DRAFT = {"id_number": ID_NUMBER, "illness": "尿毒症"}
SECRET_PARTS = (ID_NUMBER, LABEL, "尿毒症")


class TestMigration0002:
    def at_0001_with_rows(self, url: str):
        engine = make_engine(url)
        command.upgrade(alembic_config(engine), "0001")
        insert_plaintext_rows(engine, LEGACY_CONTENT, LEGACY_PAYLOAD, LEGACY_REPLIES, LEGACY_DRAFT)
        return engine

    def test_upgrade_encrypts_existing_rows_and_downgrade_restores_them(self, scratch_url):
        engine = self.at_0001_with_rows(scratch_url)
        ring = Keyring(os.urandom(32))
        crypto.install(ring)
        command.upgrade(alembic_config(engine), "head")

        raw = raw_legacy_row(engine)
        assert all(isinstance(v, str) and v.startswith(ring.current_id + ":") for v in raw), raw
        # 0002 may keep old drafts (encrypted) or drop them; it must not leave them readable.
        drafts = raw_drafts(engine)
        for value in (*raw, *drafts):
            assert value.startswith(ring.current_id + ":"), value
            for secret_part in SECRET_PARTS:
                assert secret_part not in value

        with Session(engine) as session:
            delivery = session.get(Delivery, 1)
            assert delivery.content == LEGACY_CONTENT
            assert delivery.payload == LEGACY_PAYLOAD
            assert delivery.replies == LEGACY_REPLIES
            kept = session.scalars(select(Conversation.data)).all()
            assert kept in ([], [LEGACY_DRAFT])

        command.downgrade(alembic_config(engine), "0001")
        content, payload, replies = raw_legacy_row(engine)
        assert content == LEGACY_CONTENT
        assert as_json(payload) == LEGACY_PAYLOAD
        assert as_json(replies) == LEGACY_REPLIES
        assert [as_json(d) for d in raw_drafts(engine)] in ([], [LEGACY_DRAFT])
        assert "key_checks" not in sa.inspect(engine).get_table_names()
        assert schema_status(engine)[0] == {"0001"}

        # And up again: the round trip is repeatable.
        command.upgrade(alembic_config(engine), "head")
        with Session(engine) as session:
            assert session.get(Delivery, 1).content == LEGACY_CONTENT
        assert raw_legacy_row(engine)[0].startswith(ring.current_id + ":")
        engine.dispose()

    def test_upgrade_without_a_key_stops_and_leaves_the_database_as_it_was(
        self, scratch_url, monkeypatch
    ):
        engine = self.at_0001_with_rows(scratch_url)
        monkeypatch.setattr(crypto, "_keyring", None)
        with pytest.raises(DataKeyError):
            command.upgrade(alembic_config(engine), "head")
        assert schema_status(engine)[0] == {"0001"}
        content, payload, _ = raw_legacy_row(engine)
        assert content == LEGACY_CONTENT
        assert as_json(payload) == LEGACY_PAYLOAD
        assert [as_json(d) for d in raw_drafts(engine)] == [LEGACY_DRAFT]

        ring = Keyring(os.urandom(32))
        crypto.install(ring)
        command.upgrade(alembic_config(engine), "head")
        with Session(engine) as session:
            assert session.get(Delivery, 1).content == LEGACY_CONTENT
        engine.dispose()

    def test_init_db_encrypts_an_old_database_with_the_configured_key(self, scratch_url, tmp_path):
        self.at_0001_with_rows(scratch_url).dispose()
        key = new_key()
        config = write_config(tmp_path / "c.toml", scratch_url, data_key=key)
        result = unionbot("init-db", "--config", config, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        engine = make_engine(scratch_url)
        kid = key_id(decode_data_key(key))
        assert all(value.startswith(kid + ":") for value in raw_legacy_row(engine))
        assert all(value.startswith(kid + ":") for value in raw_drafts(engine))
        crypto.install(Keyring(decode_data_key(key)))
        with Session(engine) as session:
            assert session.get(Delivery, 1).content == LEGACY_CONTENT
        engine.dispose()
