"""The staff admin: sign-in (Flask-Login, CSRF through Flask-WTF) and the views behind it."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from bot.admin import applications, catalogue, handoffs, views  # noqa: F401 (their routes)
from bot.admin.views import bp
from models.masking import mask_text
from models.staff import StaffUser

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    login_manager = LoginManager()
    login_manager.login_view = "admin.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> StaffUser | None:
        return views.load_staff(user_id)

    login_manager.init_app(app)
    csrf.init_app(app)
    # WeChat cannot send a CSRF token; its requests are authenticated by signature.
    csrf.exempt("bot.webhook.deliver")
    app.jinja_env.filters["masked"] = mask_text
    app.jinja_env.filters["local_time"] = views.local_time
    app.jinja_env.filters["actor"] = applications.actor_label
    app.register_blueprint(bp)
