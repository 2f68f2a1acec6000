"""Block Kit checks, so a layout Slack would refuse fails in tests as it would in production.

Slack answers ``invalid_blocks`` with ``response_metadata.messages`` such as
``"[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"``; the limits
below are those of Slack's Block Kit reference for the blocks and elements a bot uses.
"""

from __future__ import annotations

from typing import Any

BLOCK_TYPES = frozenset(
    {"section", "divider", "actions", "context", "header", "image", "input", "rich_text", "file", "video"}
)
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ID_MAX = 255
OPTIONS_MAX = 100


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.block_ids: set[str] = set()
        self.action_ids: set[str] = set()

    def fail(self, pointer: str, message: str) -> None:
        self.problems.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def text(self, node: Any, pointer: str, *, max_len: int, plain_only: bool = False) -> None:
        if not isinstance(node, dict) or node.get("type") not in ("plain_text", "mrkdwn"):
            self.fail(pointer, "must be a text object")
            return
        if plain_only and node["type"] != "plain_text":
            self.fail(f"{pointer}/type", "must be 'plain_text'")
        text = node.get("text")
        if not isinstance(text, str) or not text:
            self.fail(f"{pointer}/text", "must be more than 0 characters")
        elif len(text) > max_len:
            self.fail(f"{pointer}/text", f"must be less than {max_len + 1} characters")

    def unique_id(self, seen: set[str], value: Any, pointer: str) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value or len(value) > ID_MAX:
            self.fail(pointer, f"must be a string of 1 to {ID_MAX} characters")
        elif value in seen:
            self.fail(pointer, "must be unique")
        else:
            seen.add(value)

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.fail(pointer, "must be an element object")
            return
        self.unique_id(self.action_ids, element.get("action_id"), f"{pointer}/action_id")
        if element["type"] == "button":
            self.text(element.get("text"), f"{pointer}/text", max_len=BUTTON_TEXT_MAX, plain_only=True)
            value = element.get("value")
            if value is not None and (not isinstance(value, str) or len(value) > BUTTON_VALUE_MAX):
                self.fail(f"{pointer}/value", f"must be less than {BUTTON_VALUE_MAX + 1} characters")
            if element.get("style") not in (None, "primary", "danger"):
                self.fail(f"{pointer}/style", "must be one of: primary, danger")
        options = element.get("options")
        if options is not None and (not isinstance(options, list) or not 0 < len(options) <= OPTIONS_MAX):
            self.fail(f"{pointer}/options", f"must have 1 to {OPTIONS_MAX} items")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            self.fail(f"{pointer}/type", "must be a known block type")
            return
        self.unique_id(self.block_ids, block.get("block_id"), f"{pointer}/block_id")
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail(pointer, "must provide either text or fields")
            if "text" in block:
                self.text(block["text"], f"{pointer}/text", max_len=SECTION_TEXT_MAX)
            fields = block.get("fields", [])
            if not isinstance(fields, list) or len(fields) > SECTION_FIELDS_MAX:
                self.fail(f"{pointer}/fields", f"must have no more than {SECTION_FIELDS_MAX} items")
            else:
                for i, field in enumerate(fields):
                    self.text(field, f"{pointer}/fields/{i}", max_len=FIELD_TEXT_MAX)
            if "accessory" in block:
                self.element(block["accessory"], f"{pointer}/accessory")
        elif kind == "header":
            self.text(block.get("text"), f"{pointer}/text", max_len=HEADER_TEXT_MAX, plain_only=True)
        elif kind in ("actions", "context"):
            most = ACTIONS_ELEMENTS_MAX if kind == "actions" else CONTEXT_ELEMENTS_MAX
            elements = block.get("elements")
            if not isinstance(elements, list) or not 0 < len(elements) <= most:
                self.fail(f"{pointer}/elements", f"must have 1 to {most} items")
            elif kind == "actions":
                for i, element in enumerate(elements):
                    self.element(element, f"{pointer}/elements/{i}")
        elif kind == "input":
            self.text(block.get("label"), f"{pointer}/label", max_len=2000, plain_only=True)
            self.element(block.get("element"), f"{pointer}/element")


def block_problems(blocks: list[Any], *, pointer: str = "/blocks") -> list[str]:
    """Slack's error messages for ``blocks`` (empty when Slack would accept them)."""
    checker = _Checker()
    for i, block in enumerate(blocks):
        checker.block(block, f"{pointer}/{i}")
    return checker.problems
