"""Admin views: sign in and out, and the message log staff read."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import Delivery, Follower, OutboxMessage
from models.aid import count_undecided
from models.alerts import open_alerts
from models.base import utcnow
from models.delivery import recent_deliveries, transcript
from models.outbox import DEAD, FAILED, HELD, PENDING, SENDING, count_by_status
from models.staff import StaffUser, find_staff
from models.windows import SHANGHAI

bp = Blueprint("admin", __name__, url_prefix="/admin")


class Staff(UserMixin):
    """The signed-in staff member as Flask-Login sees them (detached from any session)."""

    def __init__(self, user: StaffUser):
        self.id = str(user.id)
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])


def _sessions():
    return current_app.extensions["unionbot"].session_factory


def load_staff(user_id: str) -> Staff | None:
    if not user_id.isdigit():
        return None
    with _sessions()() as session:
        user = session.get(StaffUser, int(user_id))
        return Staff(user) if user is not None and user.active else None


def local_time(value: dt.datetime | None) -> str:
    """Show a stored UTC time in Asia/Shanghai, as staff read clocks."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with _sessions()() as session, session.begin():
            user = find_staff(session, form.username.data.strip())
            if user is not None and user.active and user.check_password(form.password.data):
                user.last_login_at = utcnow()
                login_user(Staff(user))
                return redirect(_safe_next(request.args.get("next")))
        flash("用户名或密码错误。")
    return render_template("admin/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required
def index():
    with _sessions()() as session:
        counts = {
            "followers": session.scalar(
                select(func.count()).select_from(Follower).where(Follower.subscribed)
            ),
            "messages": session.scalar(select(func.count()).select_from(Delivery)),
            "failed": session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status == "failed")
            ),
        }
        deliveries = recent_deliveries(session)
        undecided = count_undecided(session)
        return render_template(
            "admin/index.html",
            counts=counts,
            undecided=undecided,
            deliveries=deliveries,
            alerts=open_alerts(session),
            outbox=count_by_status(session),
        )


@bp.get("/outbox")
@login_required
def outbox():
    """Messages that have not (yet) reached WeChat, with the reason."""
    status = request.args.get("status", "")
    shown = (status,) if status in (DEAD, FAILED, HELD, PENDING, SENDING) else (DEAD, FAILED, HELD)
    with _sessions()() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(shown))
            .order_by(OutboxMessage.id.desc())
            .limit(200)
        ).all()
        return render_template(
            "admin/outbox.html", rows=rows, counts=count_by_status(session), status=status
        )


@bp.get("/followers/<int:follower_id>")
@login_required
def follower_transcript(follower_id: int):
    with _sessions()() as session:
        follower = session.get(Follower, follower_id)
        if follower is None:
            abort(404)
        return render_template(
            "admin/transcript.html", follower=follower, deliveries=transcript(session, follower_id)
        )
