"""``/healthz``: can this process serve? (database reachable, schema current)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from models.migrate import schema_status

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    engine = current_app.extensions["unionbot"].engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, heads = schema_status(engine)
    except SQLAlchemyError as exc:
        body = {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__}
        return jsonify(body), 503
    schema = "current" if current == heads else "outdated"
    body = {
        "status": "ok" if schema == "current" else "unavailable",
        "database": "ok",
        "schema": schema,
        "revision": sorted(current),
        "expected": sorted(heads),
    }
    return jsonify(body), 200 if schema == "current" else 503
