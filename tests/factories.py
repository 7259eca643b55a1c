"""Small builders for realistic test conversations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from qa_scoring.conversation import Conversation

CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 20, 10, 0, tzinfo=CST)


def conversation(
    turns: list[tuple[str, str] | tuple[str, str, float]], **fields: Any
) -> Conversation:
    """Turns as (role, text) or (role, text, seconds after START); no seconds → no timestamp."""
    data: dict[str, Any] = {"id": "c-test", "agent_id": "a-01", "team": "after-sales"}
    data.update(fields)
    data["turns"] = [
        {"role": t[0], "text": t[1]}
        | ({"ts": (START + timedelta(seconds=t[2])).isoformat()} if len(t) > 2 else {})
        for t in turns
    ]
    return Conversation.parse(data)


BROKEN_LAMP = conversation(
    [
        ("customer", "我买的台灯到了是坏的，灯罩都碎了，太失望了", 0),
        ("agent", "亲，您好，非常抱歉给您带来不便，我帮您查一下订单", 20),
        ("customer", "订单号 o-88123", 50),
        ("agent", "收到，麻烦您拍一下破损的照片发给我", 70),
        ("customer", "[图片]", 130),
        ("agent", "已为您申请补发一台新的，48小时内发出，您看可以吗？", 160),
        ("customer", "好的，谢谢", 200),
        ("agent", "不客气，还有其他可以帮您的吗？祝您生活愉快", 215),
    ],
    id="zh-broken-lamp",
    metadata={"shop": "home-goods", "order_id": "o-88123"},
)

RUDE_AGENT = conversation(
    [
        ("customer", "我的快递怎么还没到？都五天了", 0),
        ("agent", "不归我管，你问快递去", 400),
        ("customer", "什么态度，我要投诉", 430),
        ("agent", "随便你", 700),
    ],
    id="zh-rude",
)
