import json

import pytest

from qa_scoring.conversation import Conversation, detect_language
from qa_scoring.errors import InputError
from qa_scoring.parsing import read_conversations

GOOD = {
    "id": "c-1",
    "agent_id": "a-07",
    "team": "after-sales",
    "turns": [
        {"role": "customer", "text": "我买的台灯到了是坏的", "ts": "2026-11-20T10:00:00+08:00"},
        {
            "role": "agent",
            "text": "亲，非常抱歉给您带来不便，麻烦您拍一下照片",
            "ts": "2026-11-20T10:00:25+08:00",
        },
    ],
}


def errors_of(path):
    return [r for r in read_conversations(path) if isinstance(r, InputError)]


def line(**changes):
    return json.dumps(GOOD | changes, ensure_ascii=False)


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        (line(agent_id=None), "agent_id", "valid string"),
        ({k: v for k, v in GOOD.items() if k != "agent_id"}, "agent_id", "Field required"),
        (line(turns=[{"role": "客服", "text": "在的"}]), "turns[0].role", "'customer'"),
        (line(turns=[{"role": "agent", "text": "  "}]), "turns[0].text", "text is empty"),
        (
            line(turns=[{"role": "agent", "text": "hi", "ts": "2026-13-45 25:00"}]),
            "turns[0].ts",
            "datetime",
        ),
        (
            line(
                turns=[
                    {"role": "agent", "text": "a", "ts": "2026-11-20T10:05:00+08:00"},
                    {"role": "agent", "text": "b", "ts": "2026-11-20T10:00:00+08:00"},
                ]
            ),
            "(conversation)",
            "time order",
        ),
        (line(turns=[]), "turns", "at least 1"),
        (line(agent="a-1"), "agent", "unknown field"),
        (line(outcome={"csat": 9}), "outcome.csat", "less than or equal to 5"),
    ],
)
def test_bad_conversations_name_field_and_reason(tmp_path, record, field, reason):
    path = tmp_path / "in.jsonl"
    text = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)
    path.write_text(line() + "\n" + text + "\n", encoding="utf-8")
    results = list(read_conversations(path))
    assert isinstance(results[0], Conversation)
    (err,) = [r for r in results if isinstance(r, InputError)]
    assert err.location == "line 2"
    assert any(e.field == field and reason in e.reason for e in err.errors), err.errors


def test_not_json_non_utf8_and_oversize_lines_are_reported_and_rest_kept(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b"{not json\n"
        + "\u4f60".encode("gbk")
        + b"\n"
        + line(id="c-2").encode()
        + b"\n"
        + b'{"id": "'
        + b"x" * 2_100_000
        + b'"}\n'
    )
    results = list(read_conversations(path))
    reasons = [r.errors[0].reason for r in results if isinstance(r, InputError)]
    assert reasons[0].startswith("not valid JSON") and "UTF-8" in reasons[1]
    assert "longer than" in reasons[2]
    assert [r.id for r in results if isinstance(r, Conversation)] == ["c-2"]


def test_json_array_and_csv_export(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([GOOD, GOOD | {"id": "c-2"}]), encoding="utf-8")
    assert [c.id for c in read_conversations(tmp_path / "a.json")] == ["c-1", "c-2"]
    csv_text = (
        "conversation_id,agent_id,team,role,text,ts,csat,resolved,shop\n"
        'c-9,a-02,logistics,customer,"快递三天没动了, 怎么回事",'
        "2026-11-20T09:00:00+08:00,,true,home-goods\n"
        "c-9,a-02,logistics,agent,亲，帮您催一下,2026-11-20T09:00:40+08:00,4,,\n"
        "c-10,,logistics,customer,hello,,,,\n"
    )
    (tmp_path / "e.csv").write_text(csv_text, encoding="utf-8")
    good, bad = list(read_conversations(tmp_path / "e.csv"))
    assert good.id == "c-9" and len(good.turns) == 2 and good.outcome.csat == 4
    assert good.outcome.resolved is True and good.metadata == {"shop": "home-goods"}
    assert good.turns[0].text == "快递三天没动了, 怎么回事"
    assert isinstance(bad, InputError) and bad.errors[0].field == "agent_id"


def test_unknown_extension_and_missing_file(tmp_path):
    (tmp_path / "x.xml").write_text("<a/>")
    assert "unsupported" in errors_of(tmp_path / "x.xml")[0].errors[0].reason
    assert errors_of(tmp_path / "nope.jsonl")[0].errors[0].reason == "no such file"


def test_language_detection():
    assert detect_language("亲，订单 o-8812 的 iPhone 15 Pro 已经发货了") == "zh"
    assert detect_language("Your parcel SF1234567 left Shenzhen today") == "en"
    assert Conversation.parse(GOOD).language == "zh"
