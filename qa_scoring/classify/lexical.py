"""The lexical fallback: a clearly-labelled stand-in for the classifier heads.

It runs only when no trained head or backbone is available (e.g. before `qa-scoring backbone
build`). It counts cue phrases, squeezes its outputs towards 0.5, and reports ``is_model =
False`` so model checks cap their confidence and send the conversation to a human rather than
pretend a model decided.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa_scoring.classify.base import CONVERSATION_HEADS, TURN_HEADS, Classifier, TurnInput
from qa_scoring.conversation import Conversation

CUES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # head: (positive cues, negative cues)
    "politeness": (
        (
            "您",
            "请",
            "谢谢",
            "感谢",
            "亲",
            "麻烦",
            "不好意思",
            "please",
            "thank",
            "sorry",
            "would you",
            "could you",
            "happy to",
        ),
        (
            "不知道",
            "你自己",
            "爱买不买",
            "不归我管",
            "听不懂",
            "烦",
            "随便",
            "whatever",
            "not my problem",
            "you should have",
            "read it yourself",
        ),
    ),
    "empathy": (
        (
            "理解",
            "抱歉",
            "着急",
            "心情",
            "辛苦",
            "给您带来",
            "understand",
            "sorry",
            "frustrating",
            "i can imagine",
            "apologize",
        ),
        ("没办法", "规定就是", "that's the policy", "nothing i can do"),
    ),
    "accuracy": (
        (
            "已为您",
            "单号",
            "预计",
            "退款",
            "补发",
            "天内",
            "小时内",
            "refund",
            "tracking",
            "within",
            "will arrive",
            "processed",
        ),
        ("不清楚", "不确定", "不知道", "i don't know", "not sure"),
    ),
    "satisfaction": (
        ("谢谢", "好的", "满意", "解决了", "thanks", "great", "perfect", "resolved"),
        (
            "投诉",
            "差评",
            "太差",
            "垃圾",
            "退款都不给",
            "complaint",
            "terrible",
            "worst",
            "unacceptable",
        ),
    ),
}
SPREAD = 0.2  # outputs stay within 0.5 ± SPREAD: cues are weak evidence


def _cue_score(head: str, text: str) -> float:
    positive, negative = CUES[head]
    lowered = text.lower()
    pos = sum(cue in lowered for cue in positive)
    neg = sum(cue in lowered for cue in negative)
    if pos == neg:
        return 0.5
    return 0.5 + SPREAD * (pos - neg) / (pos + neg)


class LexicalFallback(Classifier):
    is_model = False

    def __init__(self) -> None:
        self.versions = {head: "lexical-fallback-1" for head in (*TURN_HEADS, *CONVERSATION_HEADS)}

    def predict_turns(self, items: Sequence[TurnInput]) -> list[dict[str, float]]:
        return [
            {h: _cue_score(h, item.text) for h in ("politeness", "empathy", "accuracy")}
            for item in items
        ]

    def predict_conversations(
        self, conversations: Sequence[Conversation]
    ) -> list[dict[str, float]]:
        out = []
        for conv in conversations:
            closing = " ".join(conv.turns[i].text for i in conv.customer_turn_indices[-2:])
            p = _cue_score("satisfaction", closing)
            out.append({"satisfaction": p, "resolution": p})
        return out
