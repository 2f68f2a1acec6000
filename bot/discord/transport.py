"""Delivery of outbox rows through discord.py, with Discord's errors mapped to the engine's."""

from __future__ import annotations

import aiohttp
import discord

from bot.core.engine.errors import (
    ChannelMissing,
    DeliveryError,
    DMsClosed,
    MissingPermissions,
    TransientDeliveryError,
    UnknownUser,
)
from bot.core.replies import Reply
from bot.discord.render import message_kwargs

# https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
UNKNOWN_CHANNEL = 10003
UNKNOWN_USER = 10013
CANNOT_DM_USER = 50007


def _translate(exc: Exception) -> DeliveryError:
    if isinstance(exc, discord.NotFound):
        if exc.code == UNKNOWN_USER:
            return UnknownUser(f"unknown user ({exc.code})")
        return ChannelMissing(f"channel not found ({exc.code})")
    if isinstance(exc, discord.Forbidden):
        if exc.code == CANNOT_DM_USER:
            return DMsClosed("the member does not accept DMs from this server")
        return MissingPermissions(f"missing access or permissions ({exc.code})")
    if isinstance(exc, discord.HTTPException):
        return TransientDeliveryError(f"Discord answered {exc.status} ({exc.code})")
    return TransientDeliveryError(f"network error: {type(exc).__name__}")


class DiscordTransport:
    """The engine's Transport on discord.py; 429s are waited out by discord.py itself."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def send_channel(self, channel_id: str, reply: Reply, nonce: str) -> str:
        channel = self.client.get_partial_messageable(int(channel_id))
        return await self._send(channel, reply, nonce)

    async def send_dm(self, user_id: str, reply: Reply, nonce: str) -> str:
        try:
            channel = await self.client.create_dm(discord.Object(int(user_id)))
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as exc:
            raise _translate(exc) from None
        return await self._send(channel, reply, nonce)

    @staticmethod
    async def _send(channel: discord.abc.Messageable, reply: Reply, nonce: str) -> str:
        try:
            # discord.py sends enforce_nonce with every nonce: a re-send after a crash returns
            # the message already posted instead of posting it again.
            message = await channel.send(nonce=nonce, **message_kwargs(reply))
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as exc:
            raise _translate(exc) from None
        return str(message.id)
