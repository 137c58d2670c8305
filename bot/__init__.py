"""The Flask application: webhook, admin and health, built by :func:`create_app`."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import handlers.flows
from bot.config import Settings, load_settings
from bot.parked import Parking
from handlers.flows import Flows
from models import crypto
from models.conversation import stored_flows
from models.database import make_engine, make_session_factory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """What every request needs, created once per app: settings, the database, a thread pool."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    # Builds replies off the request thread, so the webhook can stop waiting at the budget.
    executor: ThreadPoolExecutor
    # The conversations a worker's next message may belong to (forms, lists, questions).
    flows: Flows
    # Deliveries answered "success" before their reply was stored, kept until it is.
    parking: Parking


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from ``settings`` (default: loaded from the environment)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.security.secret_key,
        MAX_CONTENT_LENGTH=settings.wechat.max_body_bytes,
        UNION_NAME=settings.union.name,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
    )
    app.json.ensure_ascii = False
    engine = make_engine(settings.database.url)
    keyring = settings.security.keyring()
    crypto.install(keyring)
    session_factory = make_session_factory(engine)
    flows = handlers.flows.build()
    try:
        crypto.verify(engine, keyring)
        with session_factory() as session:
            handlers.flows.check_stored(flows, stored_flows(session))
    except OperationalError:
        # Start anyway: /healthz reports the outage, and a wrong key still cannot
        # write plaintext or read what another key wrote.
        log.warning("database unreachable at start; data key and drafts not checked against it")
    except Exception:
        engine.dispose()  # refusing to start: close the pooled connection, do not leak it
        raise
    executor = ThreadPoolExecutor(settings.server.threads * 2, thread_name_prefix="intake")
    parking = Parking(settings.server.parked_dir, settings.wechat.app_id + settings.database.url)
    runtime = Runtime(settings, engine, session_factory, executor, flows, parking)
    app.extensions["unionbot"] = runtime

    from bot import admin, health, webhook

    app.register_blueprint(webhook.bp)
    app.register_blueprint(health.bp)
    admin.init_app(app)
    return app
