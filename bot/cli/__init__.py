"""The ``unionbot`` command: one group, its commands in modules by what they are for."""

from __future__ import annotations

import logging

import click

from bot.cli import campaign, chat, data, service
from bot.cli.common import LOG_FORMAT, UnionbotGroup


@click.group(cls=UnionbotGroup)
def main() -> None:
    """WeChat official-account backend of the county trade union."""
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)


for command in (
    service.serve,
    service.worker,
    service.drain,
    service.fake_wechat,
    chat.chat,
    chat.push_menu,
    data.init_db,
    data.sync_data,
    data.aid_window,
    data.add_staff,
    data.gen_key,
    data.reencrypt,
    campaign.campaign,
):
    main.add_command(command)
