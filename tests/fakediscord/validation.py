"""Discord's payload limits, enforced the way Discord does (400 with code 50035 "Invalid Form Body")."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ._util import JSON


class ApiError(Exception):
    """An error response: status + Discord JSON error code and message (+ optional field errors)."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSON:
        data: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


# Well-known Discord JSON error codes used by the fake.
UNKNOWN_GUILD = 10004
UNKNOWN_CHANNEL = 10003
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
UNKNOWN_USER = 10013
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
UNKNOWN_APPLICATION_COMMAND = 10063
UNKNOWN_SCHEDULED_EVENT = 10070
MISSING_ACCESS = 50001
CANNOT_EDIT_OTHERS_MESSAGE = 50005
EMPTY_MESSAGE = 50006
CANNOT_DM_USER = 50007
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035
ALREADY_ACKNOWLEDGED = 40060

ERROR_MESSAGES: dict[int, str] = {
    UNKNOWN_GUILD: "Unknown Guild",
    UNKNOWN_CHANNEL: "Unknown Channel",
    UNKNOWN_MEMBER: "Unknown Member",
    UNKNOWN_MESSAGE: "Unknown Message",
    UNKNOWN_ROLE: "Unknown Role",
    UNKNOWN_USER: "Unknown User",
    UNKNOWN_WEBHOOK: "Unknown Webhook",
    UNKNOWN_INTERACTION: "Unknown interaction",
    UNKNOWN_APPLICATION_COMMAND: "Unknown application command",
    UNKNOWN_SCHEDULED_EVENT: "Unknown Guild Scheduled Event",
    MISSING_ACCESS: "Missing Access",
    CANNOT_EDIT_OTHERS_MESSAGE: "Cannot edit a message authored by another user",
    EMPTY_MESSAGE: "Cannot send an empty message",
    CANNOT_DM_USER: "Cannot send messages to this user",
    MISSING_PERMISSIONS: "Missing Permissions",
    INVALID_FORM_BODY: "Invalid Form Body",
    ALREADY_ACKNOWLEDGED: "Interaction has already been acknowledged.",
}


def api_error(status: int, code: int, message: str | None = None) -> ApiError:
    return ApiError(status, code, message or ERROR_MESSAGES.get(code, "Error"))


class FormErrors:
    """Collects field errors into Discord's nested ``errors`` object."""

    def __init__(self) -> None:
        self.errors: JSON = {}

    def add(self, path: str, code: str, message: str) -> None:
        node = self.errors
        for part in path.split("."):
            child = node.setdefault(part, {})
            assert isinstance(child, dict)
            node = child
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def raise_if_any(self) -> None:
        if self.errors:
            raise ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", self.errors)


def _check_len(errs: FormErrors, path: str, value: Any, maximum: int, minimum: int = 0) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        errs.add(path, "BASE_TYPE_STRING", "Must be a string.")
        return
    if len(value) > maximum:
        errs.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {maximum} or fewer in length.")
    elif len(value) < minimum:
        errs.add(path, "BASE_TYPE_MIN_LENGTH", f"Must be {minimum} or more in length.")


def embed_length(embed: JSON) -> int:
    total = 0
    for key in ("title", "description"):
        if isinstance(embed.get(key), str):
            total += len(embed[key])
    footer = embed.get("footer")
    if isinstance(footer, dict) and isinstance(footer.get("text"), str):
        total += len(footer["text"])
    author = embed.get("author")
    if isinstance(author, dict) and isinstance(author.get("name"), str):
        total += len(author["name"])
    for fld in embed.get("fields") or []:
        if isinstance(fld, dict):
            total += len(str(fld.get("name", ""))) + len(str(fld.get("value", "")))
    return total


def validate_embeds(errs: FormErrors, embeds: Any, prefix: str = "embeds") -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        errs.add(prefix, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > 10:
        errs.add(prefix, "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        p = f"{prefix}.{i}"
        if not isinstance(embed, dict):
            errs.add(p, "MODEL_TYPE_REQUIRED", "Must be an object.")
            continue
        _check_len(errs, f"{p}.title", embed.get("title"), 256)
        _check_len(errs, f"{p}.description", embed.get("description"), 4096)
        footer = embed.get("footer")
        if isinstance(footer, dict):
            _check_len(errs, f"{p}.footer.text", footer.get("text"), 2048)
        author = embed.get("author")
        if isinstance(author, dict):
            _check_len(errs, f"{p}.author.name", author.get("name"), 256)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errs.add(f"{p}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, fld in enumerate(fields):
            if not isinstance(fld, dict):
                continue
            _check_len(errs, f"{p}.fields.{j}.name", fld.get("name"), 256, 1)
            _check_len(errs, f"{p}.fields.{j}.value", fld.get("value"), 1024, 1)
        url = embed.get("url")
        if url is not None and not (isinstance(url, str) and re.match(r"^https?://", url)):
            errs.add(f"{p}.url", "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        total += embed_length(embed)
    if total > 6000:
        errs.add(prefix, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _validate_button(errs: FormErrors, p: str, comp: JSON) -> None:
    style = comp.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        errs.add(f"{p}.style", "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6).")
    _check_len(errs, f"{p}.label", comp.get("label"), 80)
    if style == 5:
        if not comp.get("url"):
            errs.add(f"{p}.url", "BASE_TYPE_REQUIRED", "This field is required")
        if comp.get("custom_id"):
            errs.add(f"{p}.custom_id", "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "Link buttons cannot have a custom_id")
    elif style != 6:
        if not comp.get("custom_id"):
            errs.add(f"{p}.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
        if comp.get("url"):
            errs.add(f"{p}.url", "BUTTON_COMPONENT_URL_NOT_ALLOWED", "Only link buttons can have a url")
    if style in (1, 2, 3, 4, 5) and not comp.get("label") and not comp.get("emoji"):
        errs.add(f"{p}.label", "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A label or emoji is required")


def validate_components(errs: FormErrors, components: Any, *, v2: bool, prefix: str = "components") -> None:
    if components is None:
        return
    if not isinstance(components, list):
        errs.add(prefix, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if not v2 and len(components) > 5:
        errs.add(prefix, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()

    def walk(items: Sequence[Any], path: str, depth: int) -> None:
        for i, comp in enumerate(items):
            p = f"{path}.{i}"
            if not isinstance(comp, dict):
                errs.add(p, "MODEL_TYPE_REQUIRED", "Must be an object.")
                continue
            ctype = comp.get("type")
            custom_id = comp.get("custom_id")
            if custom_id is not None:
                _check_len(errs, f"{p}.custom_id", custom_id, 100, 1)
                if custom_id in seen:
                    errs.add(
                        f"{p}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                    )
                seen.add(custom_id)
            if ctype == 1:
                children = comp.get("components") or []
                if not children:
                    errs.add(f"{p}.components", "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
                if len(children) > 5:
                    errs.add(f"{p}.components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
                has_select = any(isinstance(c, dict) and c.get("type") in (3, 5, 6, 7, 8) for c in children)
                if has_select and len(children) > 1:
                    errs.add(
                        f"{p}.components",
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "The specified component exceeds the maximum width",
                    )
                walk(children, f"{p}.components", depth + 1)
            elif ctype == 2:
                if depth == 0 and not v2:
                    errs.add(p, "COMPONENT_TYPE_INVALID", "Buttons must be inside an action row")
                _validate_button(errs, p, comp)
            elif ctype in (3, 5, 6, 7, 8):
                if ctype == 3:
                    options = comp.get("options") or []
                    if not 1 <= len(options) <= 25:
                        errs.add(f"{p}.options", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
                    for j, opt in enumerate(options):
                        if isinstance(opt, dict):
                            _check_len(errs, f"{p}.options.{j}.label", opt.get("label"), 100, 1)
                            _check_len(errs, f"{p}.options.{j}.value", opt.get("value"), 100, 1)
                _check_len(errs, f"{p}.placeholder", comp.get("placeholder"), 150)
            else:
                children = comp.get("components")
                if isinstance(children, list):
                    walk(children, f"{p}.components", depth + 1)
                accessory = comp.get("accessory")
                if isinstance(accessory, dict):
                    walk([accessory], f"{p}.accessory", depth + 1)
                inner = comp.get("component")
                if isinstance(inner, dict):
                    walk([inner], f"{p}.component", depth + 1)

    walk(components, prefix, 0)


def validate_allowed_mentions(errs: FormErrors, am: Any) -> None:
    if am is None:
        return
    if not isinstance(am, dict):
        errs.add("allowed_mentions", "MODEL_TYPE_REQUIRED", "Must be an object.")
        return
    parse = am.get("parse") or []
    for i, value in enumerate(parse):
        if value not in ("users", "roles", "everyone"):
            errs.add(
                f"allowed_mentions.parse.{i}",
                "BASE_TYPE_CHOICES",
                "Value must be one of ('users', 'roles', 'everyone').",
            )
    for kind in ("users", "roles"):
        explicit = am.get(kind)
        if explicit and kind in parse:
            errs.add(
                "allowed_mentions",
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if explicit and len(explicit) > 100:
            errs.add(f"allowed_mentions.{kind}", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")


def validate_message(payload: JSON, *, file_count: int = 0, partial: bool = False) -> None:
    """Validate a create (or, with ``partial``, edit) message payload; raises ApiError."""
    errs = FormErrors()
    flags = payload.get("flags") or 0
    v2 = bool(isinstance(flags, int) and flags & (1 << 15))
    content = payload.get("content")
    _check_len(errs, "content", content, 2000)
    if v2 and (content or payload.get("embeds")):
        errs.add(
            "content",
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        )
    validate_embeds(errs, payload.get("embeds"))
    validate_components(errs, payload.get("components"), v2=v2)
    validate_allowed_mentions(errs, payload.get("allowed_mentions"))
    nonce = payload.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        errs.add("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    errs.raise_if_any()
    if partial:
        return
    has_body = bool(
        content
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or file_count
    )
    if not has_body:
        raise ApiError(400, EMPTY_MESSAGE, ERROR_MESSAGES[EMPTY_MESSAGE])


def validate_choices(choices: Any) -> None:
    errs = FormErrors()
    if not isinstance(choices, list):
        errs.add("data.choices", "BASE_TYPE_ARRAY", "Must be an array.")
        errs.raise_if_any()
        return
    if len(choices) > 25:
        errs.add("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            errs.add(f"data.choices.{i}", "MODEL_TYPE_REQUIRED", "Must be an object.")
            continue
        _check_len(errs, f"data.choices.{i}.name", choice.get("name"), 100, 1)
        value = choice.get("value")
        if isinstance(value, str):
            _check_len(errs, f"data.choices.{i}.value", value, 100)
        elif not isinstance(value, int | float) or isinstance(value, bool):
            errs.add(f"data.choices.{i}.value", "BASE_TYPE_REQUIRED", "This field is required")
    errs.raise_if_any()


_NAME_RE = re.compile(r"^[-_\w]{1,32}$")
LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el bg ru uk hi th "
    "zh-CN ja zh-TW ko".split()
)
"""Discord's locales: the only keys a ``*_localizations`` map may have."""


def _validate_localizations(
    errs: FormErrors, path: str, localized: Any, check: Callable[[FormErrors, str, Any], None]
) -> None:
    """A ``*_localizations`` map as Discord checks it at sync (error 50035): known locales, and
    each text by ``check``, the rule of the default text."""
    if localized is None:
        return
    if not isinstance(localized, dict):
        errs.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    for locale, text in localized.items():
        if locale not in LOCALES:
            errs.add(f"{path}.{locale}", "LOCALE_INVALID", f"Invalid locale: {locale}")
        else:
            check(errs, f"{path}.{locale}", text)


def _slash_name(errs: FormErrors, path: str, name: Any) -> None:
    _validate_command_name(errs, path, name, True)


def _menu_name(errs: FormErrors, path: str, name: Any) -> None:
    _validate_command_name(errs, path, name, False)


def _up_to_100(errs: FormErrors, path: str, text: Any) -> None:
    _check_len(errs, path, text, 100, 1)


def _validate_command_name(errs: FormErrors, path: str, name: Any, slash: bool) -> None:
    if not isinstance(name, str) or not name:
        errs.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        return
    if slash:
        if not _NAME_RE.match(name) or name != name.lower():
            errs.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    else:
        _check_len(errs, path, name, 32, 1)


def _validate_options(errs: FormErrors, prefix: str, options: Any, depth: int) -> None:
    if options is None:
        return
    if not isinstance(options, list):
        errs.add(prefix, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(options) > 25:
        errs.add(prefix, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    names: set[str] = set()
    seen_optional = False
    for i, opt in enumerate(options):
        p = f"{prefix}.{i}"
        if not isinstance(opt, dict):
            errs.add(p, "MODEL_TYPE_REQUIRED", "Must be an object.")
            continue
        _validate_command_name(errs, f"{p}.name", opt.get("name"), True)
        if opt.get("name") in names:
            errs.add(f"{p}.name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique")
        names.add(str(opt.get("name")))
        _check_len(errs, f"{p}.description", opt.get("description"), 100, 1)
        _validate_localizations(errs, f"{p}.name_localizations", opt.get("name_localizations"), _slash_name)
        _validate_localizations(
            errs, f"{p}.description_localizations", opt.get("description_localizations"), _up_to_100
        )
        otype = opt.get("type")
        if otype in (1, 2):
            if otype == 2 and depth > 0:
                errs.add(f"{p}.type", "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Subcommand groups cannot be nested")
            if otype == 1 and depth > 1:
                errs.add(f"{p}.type", "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Subcommands nested too deep")
            _validate_options(errs, f"{p}.options", opt.get("options"), depth + 1)
        else:
            if opt.get("required"):
                if seen_optional:
                    errs.add(
                        f"{p}.required",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            choices = opt.get("choices")
            if choices:
                if opt.get("autocomplete"):
                    errs.add(
                        f"{p}.autocomplete",
                        "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_AND_CHOICES",
                        "Autocomplete cannot be set with choices",
                    )
                if len(choices) > 25:
                    errs.add(f"{p}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
                for j, choice in enumerate(choices):
                    _check_len(errs, f"{p}.choices.{j}.name", choice.get("name"), 100, 1)
                    localized = choice.get("name_localizations")
                    _validate_localizations(errs, f"{p}.choices.{j}.name_localizations", localized, _up_to_100)


def validate_commands(commands: Any) -> None:
    errs = FormErrors()
    if not isinstance(commands, list):
        raise ApiError(
            400,
            INVALID_FORM_BODY,
            "Invalid Form Body",
            {"_errors": [{"code": "BASE_TYPE_ARRAY", "message": "Must be an array."}]},
        )
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        p = str(i)
        if not isinstance(cmd, dict):
            errs.add(p, "MODEL_TYPE_REQUIRED", "Must be an object.")
            continue
        ctype = cmd.get("type", 1)
        _validate_command_name(errs, f"{p}.name", cmd.get("name"), ctype == 1)
        key = (str(cmd.get("name")), int(ctype))
        if key in seen:
            errs.add(f"{p}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
        seen.add(key)
        names = _slash_name if ctype == 1 else _menu_name
        _validate_localizations(errs, f"{p}.name_localizations", cmd.get("name_localizations"), names)
        if ctype == 1:
            _check_len(errs, f"{p}.description", cmd.get("description"), 100, 1)
            _validate_localizations(
                errs, f"{p}.description_localizations", cmd.get("description_localizations"), _up_to_100
            )
            _validate_options(errs, f"{p}.options", cmd.get("options"), 0)
    if sum(1 for c in commands if isinstance(c, dict) and c.get("type", 1) == 1) > 100:
        errs.add("_", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer slash commands.")
    errs.raise_if_any()
