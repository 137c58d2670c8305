"""Commands that set up and keep the data: init-db, sync-data, aid-window, add-staff, keys."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import click
from sqlalchemy.orm import Session

from bot.admin.permissions import ROLES
from bot.cli.common import Fatal, config_option, prepare_database
from bot.config import decode_data_key, load_settings
from models import crypto
from models.aid import AidProgramme, get_programme, programmes
from models.audit import audit
from models.database import make_engine, make_session_factory, serialised
from models.migrate import schema_status, upgrade
from models.orgs import COUNTY_CODE, UnionOrg, all_orgs
from models.seed import DATA, report_lines, seed_catalogue, seed_demo
from models.staff import find_staff, upsert_staff
from models.windows import parse_month_day


@click.command("init-db")
@config_option
def init_db(config_path: str | None) -> None:
    """Create or upgrade the database schema (Alembic), then sync the data files."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    keyring = settings.security.keyring()
    crypto.install(keyring)
    upgrade(engine)
    crypto.verify(engine, keyring)
    with serialised(make_session_factory(engine)) as session, session.begin():
        if settings.demo.enabled:
            reports = seed_demo(session, settings.demo.admin_password)
        else:
            reports = seed_catalogue(session)
    for line in report_lines(reports):
        click.echo(line)
    current, _ = schema_status(engine)
    click.echo(f"database ready at revision {', '.join(sorted(current))}")


@click.command("sync-data")
@config_option
@click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DATA,
    show_default="the files shipped in models/data",
    help="Directory holding aid_programmes.toml, competitions.toml, benefits.toml, fields.toml.",
)
def sync_data(config_path: str | None, data_dir: Path) -> None:
    """Bring changed forms, prompts, privacy notices and other data-file values into the
    database, keeping every value staff changed; say what changed."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    reports = prepare_database(settings, engine, data_dir)  # the demo syncs here already
    with serialised(make_session_factory(engine)) as session, session.begin():
        reports += seed_catalogue(session, data_dir)
    for line in report_lines(reports) or [
        "nothing changed: the database has what the data files say"
    ]:
        click.echo(line)


def window_asked(
    opens: str | None, closes: str | None, all_year: bool
) -> tuple[str | None, str | None] | None:
    """The window the options ask for, (None, None) meaning all year; None to only show it.

    Dates go through the admin's parser, so a day no year has (04-31) is refused here
    instead of breaking every later 帮扶."""
    if all_year:
        if opens or closes:
            raise Fatal("give --opens and --closes, or --all-year, not both")
        return None, None
    if not opens and not closes:
        return None
    if not opens or not closes:
        raise Fatal("give both --opens and --closes as MM-DD, or --all-year")
    days = []
    for option, value in (("--opens", opens), ("--closes", closes)):
        day = parse_month_day(value)
        if day is None:
            raise Fatal(f"{option} {value!r} is not a day of the year; give MM-DD, e.g. 11-01")
        days.append(day)
    return days[0], days[1]


def window_text(opens: str | None, closes: str | None) -> str:
    return f"{opens} to {closes}" if opens else "all year"


@click.command("aid-window")
@config_option
@click.argument("code")
@click.option("--opens", metavar="MM-DD", help="First day applications are taken each year.")
@click.option("--closes", metavar="MM-DD", help="Last day (may be before --opens: wraps the year).")
@click.option("--all-year", is_flag=True, help="Take applications all year.")
def aid_window(config_path, code, opens, closes, all_year) -> None:
    """Show or change when an aid programme takes applications (e.g. open 金秋助学 early).

    A changed window is audited and, differing from the data file, kept by sync-data."""
    asked = window_asked(opens, closes, all_year)
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    prepare_database(settings, engine)
    with serialised(make_session_factory(engine)) as session, session.begin():
        programme = get_programme(session, code)
        if programme is None:
            known = ", ".join(p.code for p in programmes(session, active_only=False))
            raise Fatal(f"no aid programme {code!r} (known: {known})")
        shown = window_text(programme.opens, programme.closes)
        if asked is not None and asked != (programme.opens, programme.closes):
            change_window(session, programme, asked)
            shown = f"{window_text(*asked)} (was {shown})"
        click.echo(f"{programme.code} ({programme.name}): {shown}")


def change_window(
    session: Session, programme: AidProgramme, window: tuple[str | None, str | None]
) -> None:
    """Set the window and audit it as the admin does, by column name."""
    changed = [
        name
        for name, value in zip(("opens", "closes"), window, strict=True)
        if getattr(programme, name) != value
    ]
    programme.opens, programme.closes = window
    audit(session, "system", "edit", programme.code, ",".join(changed))


@click.command("add-staff")
@config_option
@click.argument("username")
@click.option(
    "--name", "display_name", help="Name shown in the admin (new accounts: the username)."
)
@click.option(
    "--role",
    type=click.Choice(ROLES),
    help="What the account may do (new accounts: reviewer).",
)
@click.option(
    "--org",
    "org_code",
    help=f"Code of the union organisation the account works for, from unions.toml "
    f"(new accounts: the county, {COUNTY_CODE}).",
)
@click.password_option(help="Password (prompted for when omitted).")
def add_staff(config_path, username, display_name, role, org_code, password) -> None:
    """Create a staff account for the admin, or reset its password.

    Resetting a password keeps the account's name, role and organisation unless they are
    given, so an administrator who forgot a password is not demoted."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    prepare_database(settings, engine)
    if len(password) < 10:
        raise Fatal("password must be at least 10 characters")
    with make_session_factory(engine).begin() as session:
        existing = find_staff(session, username)
        role = role or (existing.role if existing else "reviewer")
        display_name = display_name or (existing.display_name if existing else username)
        org_code = org_code or (existing.org_code if existing else COUNTY_CODE)
        org = session.get(UnionOrg, org_code)
        if org is None:
            known = ", ".join(org.code for org in all_orgs(session))
            raise Fatal(f"unknown organisation {org_code!r}; known: {known}")
        upsert_staff(session, username, password, display_name, role, org.code)
    click.echo(f"staff account {username!r} ready ({role}, {org.name})")


@click.command("gen-key")
@click.option(
    "--index-of",
    metavar="DATA_KEY",
    help="Instead, print the index_key to pin before rotating away from DATA_KEY.",
)
def gen_key(index_of: str | None) -> None:
    """Print new secret_key and data_key values."""
    if index_of:
        try:
            ring = crypto.Keyring(current=decode_data_key(index_of))
        except ValueError as exc:
            raise Fatal(f"--index-of {exc}") from None
        click.echo(f'index_key = "{base64.urlsafe_b64encode(ring.lookup_key).decode()}"')
        return
    click.echo(f'secret_key = "{secrets.token_urlsafe(32)}"')
    click.echo(f'data_key = "{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"')


@click.command()
@config_option
def reencrypt(config_path: str | None) -> None:
    """Rewrite every encrypted value under the current data_key (after a key rotation)."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    prepare_database(settings, engine)
    changed = crypto.reencrypt(engine, settings.security.keyring())
    click.echo(f"re-encrypted {changed} values under data key {crypto.keyring().current_id}")
