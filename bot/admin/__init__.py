"""The staff admin: sign-in (Flask-Login, CSRF through Flask-WTF) and the views behind it.

One module per topic; each registers its routes on the blueprint in
:mod:`bot.admin.common` when it is imported, so the imports below are what
puts a page in the admin. A new route module must be added here.
"""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from flask_wtf import CSRFProtect

# Imported for their routes (they register on ``bp`` at import).
from bot.admin import (  # noqa: F401
    applications,
    audit,
    campaigns,
    competitions,
    dashboard,
    handoffs,
    headers,
    outbox,
    programmes,
    signin,
    staff,
    transcripts,
)
from bot.admin.common import actor_label, bp, local_time
from bot.admin.reveal_reasons import REASONS
from models.masking import install_log_masking, mask_text

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    login_manager = LoginManager()
    login_manager.login_view = "admin.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = "strong"
    # Staff read the logs too: no worker's ID, phone or card number may reach them.
    install_log_masking()

    @login_manager.user_loader
    def load_user(token: str) -> signin.Staff | None:
        return signin.load_staff(token)

    login_manager.init_app(app)
    csrf.init_app(app)
    # WeChat cannot send a CSRF token; its requests are authenticated by signature.
    csrf.exempt("bot.webhook.deliver")
    app.jinja_env.filters["masked"] = mask_text
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["actor"] = actor_label
    app.jinja_env.globals["reveal_reasons"] = REASONS
    app.register_blueprint(bp)
