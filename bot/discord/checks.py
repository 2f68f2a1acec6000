"""What the bot can and cannot do in a server, read from discord.py's guild cache.

The moderator commands check these themselves before saving anything, so a moderator
hears what is missing now rather than finding out when a reminder fails.
"""

from __future__ import annotations

import discord

from bot.core.i18n import N_, Word, _

CANNOT_SEE_CHANNEL = N_("I can't see that channel at all. Nothing was changed.")
"""A channel picked in an option that the bot's cache does not have: it may not view it."""

CHANNEL_NEEDS = {
    # TRANSLATORS: permission names as Discord's own settings show them in the reader's language.
    "view_channel": N_("View Channel"),
    "send_messages": N_("Send Messages"),
    "embed_links": N_("Embed Links"),
}


def missing_channel_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    """Names of the permissions the bot lacks to post reminder cards in ``channel``, as Discord
    shows them to the reader."""
    granted = channel.permissions_for(me)
    return [_(label) for flag, label in CHANNEL_NEEDS.items() if not getattr(granted, flag)]


def channel_problem(channel: discord.abc.GuildChannel, me: discord.Member) -> str | None:
    """What the bot lacks to post reminder cards in ``channel`` and how to grant it, or None."""
    missing = missing_channel_permissions(channel, me)
    if not missing:
        return None
    return _("I'm missing {permissions} there. Grant them (channel settings → Permissions) and run this again.").format(
        permissions=", ".join(missing)
    )


def role_problem(role: discord.Role, me: discord.Member) -> str | None:
    """Why the bot cannot hand out ``role`` to members, or None when it can."""
    if role.is_default():
        return _("@everyone can't be the ping role: pick or create a role members opt into.")
    if role.managed:
        return _("{role} is managed by an integration, so no bot can hand it out.").format(role=Word(role.name))
    unmanageable = manage_problem(role, me)
    if unmanageable is not None:
        return unmanageable
    if not role.mentionable and not me.guild_permissions.mention_everyone:
        return _(
            "{role} can't be mentioned: turn on “Allow anyone to @mention this role” for it "
            "in Server Settings → Roles, so reminder posts can ping it."
        ).format(role=Word(role.name))
    return None


def manage_problem(role: discord.Role, me: discord.Member) -> str | None:
    """Why the bot can neither give ``role`` to members nor take it back, or None when it can."""
    if not me.guild_permissions.manage_roles:
        return _("I need the Manage Roles permission to give the ping role to members who opt in.")
    if role >= me.top_role:
        return _(
            "My highest role ({top_role}) must be above {role} in Server Settings → Roles before I can hand it out."
        ).format(top_role=me.top_role.name, role=Word(role.name))
    return None
