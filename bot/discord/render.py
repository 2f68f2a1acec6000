"""Rendering of platform-neutral replies as discord.py embeds, views and allowed mentions."""

from __future__ import annotations

from typing import Any

import discord

from bot.core.i18n import _
from bot.core.replies import Button, ButtonStyle, Reply, error


def something_went_wrong() -> Reply:
    return error(_("Sorry, something went wrong on my side. Please try again in a moment."))


_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.SECONDARY: discord.ButtonStyle.secondary,
    ButtonStyle.SUCCESS: discord.ButtonStyle.success,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
    ButtonStyle.LINK: discord.ButtonStyle.link,
}


def embed_for(reply: Reply) -> discord.Embed | None:
    if not reply.has_card:
        return None
    embed = discord.Embed(title=reply.title, description=reply.description, url=reply.url, colour=reply.color)
    for field in reply.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    if reply.footer:
        embed.set_footer(text=reply.footer)
    return embed


def _button(button: Button) -> discord.ui.Button[discord.ui.View]:
    return discord.ui.Button(
        label=button.label,
        style=_STYLES[button.style],
        custom_id=None if button.style is ButtonStyle.LINK else button.custom_id,
        url=button.url,
        emoji=button.emoji,
        disabled=button.disabled,
    )


def _button_key(
    style: discord.ButtonStyle, label: str | None, custom_id: str | None, url: str | None, emoji: object, disabled: bool
) -> tuple[object, ...]:
    return (style, label, custom_id, url, str(emoji) if emoji else None, disabled)


def shows_buttons(message: discord.Message, reply: Reply) -> bool:
    """Whether ``message`` already carries exactly ``reply``'s buttons and no other component."""
    present = [
        _button_key(child.style, child.label, child.custom_id, child.url, child.emoji, child.disabled)
        if isinstance(child, discord.Button)
        else None
        for row in message.components
        for child in (row.children if isinstance(row, discord.ActionRow) else [row])
    ]
    wanted = [
        _button_key(
            _STYLES[b.style], b.label, None if b.style is ButtonStyle.LINK else b.custom_id, b.url, b.emoji, b.disabled
        )
        for b in reply.buttons
    ]
    return present == wanted


def view_for(reply: Reply) -> discord.ui.View | None:
    """Buttons as a view; clicks are handled by the persistent dynamic items, not by this view."""
    if not reply.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in reply.buttons:
        view.add_item(_button(button))
    # Stopped: discord.py then keeps no copy of it per message (which would grow with every card
    # and get every click as well); the buttons are served by the dynamic items alone.
    view.stop()
    return view


def allowed_mentions_for(reply: Reply) -> discord.AllowedMentions:
    """Exactly the users and roles the core allowed: never @everyone, @here or anyone else.

    The core's ids are strings; one that is not a Discord snowflake names nobody here."""
    return discord.AllowedMentions(
        everyone=False,
        users=[discord.Object(int(user_id)) for user_id in reply.mentions.user_ids if user_id.isdecimal()],
        roles=[discord.Object(int(role_id)) for role_id in reply.mentions.group_ids if role_id.isdecimal()],
        replied_user=False,
    )


def message_kwargs(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for ``send``/``send_message``/``edit`` shared by every way of sending."""
    kwargs: dict[str, Any] = {
        "content": reply.content,
        "allowed_mentions": allowed_mentions_for(reply),
    }
    embed = embed_for(reply)
    if embed is not None:
        kwargs["embed"] = embed
    view = view_for(reply)
    if view is not None:
        kwargs["view"] = view
    return kwargs


async def respond(interaction: discord.Interaction[Any], reply: Reply) -> None:
    """Answer an interaction with ``reply``, as a first response or as a followup."""
    kwargs = message_kwargs(reply)
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=reply.ephemeral, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=reply.ephemeral, **kwargs)
