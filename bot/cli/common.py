"""What every command shares: one-line failures, the --config option, the database check."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bot.config import ConfigError, Settings
from handlers.flows import UnknownFlow
from models import crypto
from models.data_sync import RowSync
from models.database import make_session_factory, serialised
from models.migrate import schema_status, upgrade
from models.seed import DATA, seed_demo


class Fatal(click.ClickException):
    """A one-line reason to stop, printed without a traceback."""

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:
        click.echo(f"unionbot: {self.message}", err=True)


class UnionbotGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise Fatal(f"config error: {exc}") from None
        except crypto.DataKeyError as exc:
            raise Fatal(f"data key error: {exc}") from None
        except UnknownFlow as exc:
            raise Fatal(str(exc)) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise Fatal(f"cannot use the database: {reason}") from None


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FAKE_MOUNT = "/fake-wechat"

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="UNIONBOT_CONFIG",
    help="Path to the TOML config (default: $UNIONBOT_CONFIG, else the built-in demo).",
)


def prepare_database(
    settings: Settings, engine: Engine, data_dir: Path = DATA, *, seed: bool = True
) -> list[RowSync]:
    """Demo: migrate and seed (the catalogue from ``data_dir``), and return what the seed
    changed. Otherwise refuse to run on an outdated schema, and change nothing.

    A command that only reads (``seed=False``: push-menu) migrates the demo only when
    its schema is behind, and never re-seeds: a seed takes the write lock, and a busy
    demo service holding it made such a command fail with "database is locked".
    Either way, refuse a data key that cannot read what the database holds.
    """
    keyring = settings.security.keyring()
    crypto.install(keyring)  # a migration may encrypt rows it rewrites
    current, heads = schema_status(engine)
    if settings.demo.enabled and (seed or current != heads):
        upgrade(engine)
        crypto.verify(engine, keyring)
        with serialised(make_session_factory(engine)) as session, session.begin():
            return seed_demo(session, settings.demo.admin_password, data_dir)
    if current != heads:
        at = ", ".join(sorted(current)) or "empty"
        raise Fatal(
            f"database schema is outdated (at {at}, needs {', '.join(sorted(heads))}); "
            "run: unionbot init-db"
        )
    crypto.verify(engine, keyring)
    return []
