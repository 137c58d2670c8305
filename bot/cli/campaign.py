"""``unionbot campaign``: list, preview, approve, schedule, run and follow the campaigns.

Each subcommand works on the campaign named by its code or its name (``jinqiu`` or
``金秋助学``). Approving needs a staff account other than the author's, as in the
admin: the two-person rule is the model's, not the page's.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from bot import Runtime
from bot.campaign_runner import limits, plan, quiet_hours
from bot.cli.common import Fatal, config_option, prepare_database
from bot.config import load_settings
from models import campaign_control as control
from models.audience import describe
from models.base import utcnow
from models.campaign_preview import preview
from models.campaign_runs import failures, runs_of, tally, wechat_figures
from models.campaigns import CHANNEL_WORDS, CampaignError, campaigns, find_campaign
from models.campaigns import approve as approve_campaign
from models.campaigns import schedule as schedule_campaign
from models.database import serialised
from models.staff import find_staff
from models.windows import SHANGHAI


def _runtime(config_path: str | None) -> Runtime:
    from bot import create_app

    settings = load_settings(config_path)
    runtime = create_app(settings).extensions["unionbot"]
    prepare_database(settings, runtime.engine)
    return runtime


@contextmanager
def _campaign(runtime: Runtime, name: str):
    """The named campaign inside a write transaction; a refusal becomes one line."""
    with serialised(runtime.session_factory) as session, session.begin():
        campaign = find_campaign(session, name)
        if campaign is None:
            known = "、".join(c.name for c in campaigns(session)) or "（无）"
            raise Fatal(f"no campaign {name!r} (known: {known})")
        try:
            yield session, campaign
        except CampaignError as exc:
            raise Fatal(str(exc)) from None


def _local(value) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "—"


@click.group()
def campaign() -> None:
    """Seasonal campaigns: plan, approve (two people), run and follow them."""


@campaign.command("list")
@config_option
def list_campaigns(config_path: str | None) -> None:
    """Every campaign with its status and next send time (Beijing time)."""
    runtime = _runtime(config_path)
    with runtime.session_factory() as session:
        for c in campaigns(session):
            click.echo(
                f"{c.code:<16} {c.name:<8} {c.status_word:<4} {CHANNEL_WORDS[c.channel]}  "
                f"下次：{_local(c.next_send_at)}  受众：{describe(c.audience)}"
            )


@campaign.command("preview")
@config_option
@click.argument("name")
def preview_campaign(config_path: str | None, name: str) -> None:
    """Who would get it now, by which channel, and whether a quota forbids it."""
    runtime = _runtime(config_path)
    with _campaign(runtime, name) as (session, c):
        shown = preview(session, c, limits(runtime.settings), utcnow())
        click.echo(f"{c.name}（{c.status_word}）受众：{describe(c.audience)}")
        for line in shown.lines():
            click.echo(line)
        click.echo("样例：" + "、".join(shown.sample))
        click.echo("内容：\n" + (c.content or f"图文消息 {c.media_id}"))


@campaign.command("approve")
@config_option
@click.argument("name")
@click.option("--by", "username", required=True, help="The approving staff member's username.")
def approve(config_path: str | None, name: str, username: str) -> None:
    """Approve a draft: the approver must be a staff member other than its author."""
    runtime = _runtime(config_path)
    with _campaign(runtime, name) as (session, c):
        if find_staff(session, username) is None:
            raise Fatal(f"no staff account {username!r} (unionbot add-staff creates one)")
        approve_campaign(session, c, f"staff:{username}", utcnow())
        click.echo(f"{c.name}：已审核（{username}）。排期：unionbot campaign schedule {c.code}")


@campaign.command("schedule")
@config_option
@click.argument("name")
def schedule(config_path: str | None, name: str) -> None:
    """Start sending an approved campaign at its send times."""
    runtime = _runtime(config_path)
    with _campaign(runtime, name) as (session, c):
        due = schedule_campaign(session, c, "system", utcnow())
        click.echo(f"{c.name}：已排期，下次发送 {_local(due)}（北京时间）")


@campaign.command("run")
@config_option
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; queue nothing.")
def run(config_path: str | None, name: str, dry_run: bool) -> None:
    """Send an approved campaign now (after the quiet hours): queue it for the worker."""
    runtime = _runtime(config_path)
    settings = runtime.settings
    with _campaign(runtime, name) as (session, c):
        shown = preview(session, c, limits(settings), utcnow())
        if dry_run:
            for line in shown.lines():
                click.echo(line)
            click.echo("（试运行：没有发送任何消息）")
            return
        if shown.refusal:
            raise Fatal(shown.refusal)
        started = control.run_now(session, c, "system", utcnow(), quiet_hours(settings))
        run_id, not_before, audience = started.id, started.not_before, shown.audience
    if not_before > utcnow():
        click.echo(f"现在是免打扰时段，将在 {_local(not_before)} 开始发送（run {run_id}）。")
        return
    if sys.stdout.isatty():
        with click.progressbar(length=audience, label="排入发件箱") as bar:
            status = plan(runtime, run_id, progress=bar.update)
    else:
        status = plan(runtime, run_id)
    with runtime.session_factory() as session:
        counts = tally(session, run_id)
    click.echo(
        f"run {run_id}：{status}，排队 {counts['queued']} 人，已发 {counts['sent']} 人"
        "（由 unionbot worker 或 serve 发送；unionbot campaign status 查看进度）"
    )


@campaign.command("status")
@config_option
@click.argument("name")
def status(config_path: str | None, name: str) -> None:
    """The campaign's runs: queued, sent, failed and why, and WeChat's own figures."""
    runtime = _runtime(config_path)
    with _campaign(runtime, name) as (session, c):
        click.echo(f"{c.name}：{c.status_word}，下次发送 {_local(c.next_send_at)}")
        for r in runs_of(session, c.id):
            counts, wechat = tally(session, r.id), wechat_figures(session, r.id)
            click.echo(
                f"run {r.id} {_local(r.due_at)} {r.status_word}：排队 {counts['queued']}，"
                f"已发 {counts['sent']}，待下次互动 {counts['held']}，失败 {counts['failed']}，"
                f"无可用渠道未发 {counts['unreachable']}"
                + (f"；原因：{r.reason}" if r.reason else "")
            )
            if wechat["reports"]:
                click.echo(
                    f"  微信报告：共 {wechat['total']}，送达 {wechat['sent']}，"
                    f"过滤 {wechat['filtered']}，失败 {wechat['errors']}"
                )
            for key, code, error in failures(session, r.id, limit=5):
                click.echo(f"  失败 {key}：{code or ''} {error}")
