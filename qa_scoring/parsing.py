"""Reading conversations from files: JSON (one object or an array), JSONL, and CSV with one row
per turn (the shape helpdesk exports have).

Readers never stop at a bad conversation: they yield either a Conversation or an InputError
naming the line, the conversation and the field, so a batch scores everything it can.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from qa_scoring.conversation import Conversation
from qa_scoring.errors import FieldError, InputError

MAX_RECORD_BYTES = 2_000_000  # one conversation; a longer line is almost surely not a chat
MAX_FILE_BYTES = 2_000_000_000

Parsed = Conversation | InputError
CONVERSATION_COLUMNS = ("channel", "language", "agent_id", "team")
OUTCOME_COLUMNS = ("csat", "resolved", "converted")
TURN_COLUMNS = ("role", "text", "ts")


def read_conversations(path: str | Path) -> Iterator[Parsed]:
    """Parse a file by its extension: .jsonl/.ndjson, .json, .csv."""
    path = Path(path)
    if not path.is_file():
        yield InputError([FieldError("(file)", "no such file")], location=str(path))
        return
    if path.stat().st_size > MAX_FILE_BYTES:
        yield InputError([FieldError("(file)", "file is larger than 2 GB")], location=str(path))
        return
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        if suffix in (".jsonl", ".ndjson"):
            yield from parse_jsonl(fh)
        elif suffix == ".json":
            yield from parse_json(fh.read())
        elif suffix == ".csv":
            yield from parse_csv(fh.read())
        else:
            yield InputError(
                [
                    FieldError(
                        "(file)", f"unsupported file type {suffix!r} (use .jsonl, .json or .csv)"
                    )
                ],
                location=str(path),
            )


def _decode(raw: bytes, location: str) -> str | InputError:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return InputError(
            [FieldError("(encoding)", f"not valid UTF-8 at byte {exc.start}")], location=location
        )


def parse_jsonl(lines: Iterable[bytes]) -> Iterator[Parsed]:
    for number, raw in enumerate(lines, start=1):
        location = f"line {number}"
        if not raw.strip():
            continue
        if len(raw) > MAX_RECORD_BYTES:
            yield InputError(
                [FieldError("(record)", f"longer than {MAX_RECORD_BYTES} bytes")], location=location
            )
            continue
        text = _decode(raw, location)
        if isinstance(text, InputError):
            yield text
            continue
        yield _parse_record(text, location)


def _parse_record(text: str, location: str) -> Parsed:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return InputError(
            [FieldError("(json)", f"not valid JSON: {exc.msg} at column {exc.colno}")],
            location=location,
        )
    return _validate(data, location)


def _validate(data: Any, location: str) -> Parsed:
    if not isinstance(data, dict):
        return InputError(
            [FieldError("(record)", "a conversation must be a JSON object")], location=location
        )
    try:
        return Conversation.parse(data, location=location)
    except InputError as exc:
        return exc


def parse_json(raw: bytes) -> Iterator[Parsed]:
    text = _decode(raw, "file")
    if isinstance(text, InputError):
        yield text
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield InputError(
            [FieldError("(json)", f"not valid JSON: {exc.msg} at line {exc.lineno}")],
            location="file",
        )
        return
    items = data if isinstance(data, list) else [data]
    for i, item in enumerate(items):
        yield _validate(item, f"item {i}")


def parse_csv(raw: bytes) -> Iterator[Parsed]:
    """Rows grouped by ``conversation_id`` in file order; conversation columns are taken from
    the first row of each conversation, and any unknown column goes into ``metadata``."""
    text = _decode(raw, "file")
    if isinstance(text, InputError):
        yield text
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [
        c
        for c in ("conversation_id", "agent_id", *TURN_COLUMNS[:2])
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        yield InputError([FieldError(c, "missing column") for c in missing], location="header")
        return
    groups: dict[str, tuple[int, list[dict[str, str]]]] = {}
    for row in reader:
        key = (row.get("conversation_id") or "").strip()
        groups.setdefault(key, (reader.line_num, []))[1].append(row)
    for key, (line, rows) in groups.items():
        yield _validate(_conversation_from_rows(key, rows), f"row {line}")


def _conversation_from_rows(conv_id: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    # Exports often fill conversation columns (csat, shop…) on one row only: take, per column,
    # the first non-empty value across the conversation's rows.
    first = {k: next((r[k] for r in rows if r.get(k)), "") for k in rows[0]}
    known = {"conversation_id", *CONVERSATION_COLUMNS, *OUTCOME_COLUMNS, *TURN_COLUMNS}
    data: dict[str, Any] = {"id": conv_id}
    data.update({c: first[c] for c in CONVERSATION_COLUMNS if first.get(c)})
    data["metadata"] = {k: v for k, v in first.items() if k not in known and k and v}
    outcome = {c: first[c] for c in OUTCOME_COLUMNS if first.get(c)}
    if outcome:
        data["outcome"] = outcome
    data["turns"] = [
        {c: row[c] for c in TURN_COLUMNS if row.get(c) not in (None, "")}
        | {"text": row.get("text") or ""}
        for row in rows
    ]
    return data
