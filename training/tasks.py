"""What each head learns: its data, its binary targets, the features it may use, and the facts
its model card states about the data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa_scoring.classify.heads import Kind
from training import data
from training.data import Dialogue, TurnExample

Example = TurnExample | Dialogue
Target = Callable[[dict[str, float]], float]


@dataclass(frozen=True)
class Task:
    head: str
    kind: Kind
    # candidate feature blocks ("text" | "pair" | "conversation"); the validation split picks
    blocks: tuple[str, ...]
    targets: dict[str, Target]  # output name -> binary label from an example's labels
    load: Callable[[Path | None], list[Example]]
    # Lexical features only help where the training data covers the serving languages; for
    # en-only data serving zh too, the head must lean on the multilingual encoder alone.
    lexical: bool
    score: str | None  # continuous label used for Spearman (annotator mean), if any
    data_card: str  # data, licence and label definition, for the model card
    licence: str
    measures: str
    zh_labels: dict[str, Target] = field(default_factory=dict)  # output -> zh-set target
    research_only: bool = False


def _empathy_overall(labels: dict[str, float]) -> float:
    """Emotional reactions or interpretations >= 1. Explorations (questions about the seeker's
    experience) are left out: in service chats questions are mostly fact-finding, and the
    product's label guide counts acknowledgement of feelings or situation only. Measured: with
    explorations in ("any mechanism"), zh transfer AUC was 0.63; the explorations sub-output
    alone is anti-correlated with the zh labels (AUC 0.44)."""
    return float(labels["emotional_reactions"] >= 1 or labels["interpretations"] >= 1)


TASKS: dict[str, Task] = {
    "politeness": Task(
        head="politeness",
        kind="turn",
        blocks=("text",),  # requests have no context in the data
        targets={"politeness": lambda lab: float(lab["score"] > 0)},
        load=data.load_politeness,
        lexical=False,
        score="score",
        data_card=(
            "Stanford Politeness Corpus, Wikipedia part (Danescu-Niculescu-Mizil et al., ACL "
            "2013; github.com/sudhof/politeness @0449a15): 4,353 English requests from user "
            "talk pages, each rated by 5 annotators; label = Normalized Score > 0 (polite)."
        ),
        licence="Apache-2.0 (repository LICENSE); cite the ACL 2013 paper.",
        measures="P(the agent turn's tone is polite rather than impolite).",
        zh_labels={"politeness": lambda lab: lab["politeness"]},
    ),
    "empathy": Task(
        head="empathy",
        kind="turn",
        blocks=("text", "pair"),
        targets={
            "empathy": _empathy_overall,
            **{
                f"empathy.{m}": (lambda lab, m=m: float(lab[m] >= 1))
                for m in data.EPITOME_FILES
            },
        },
        load=data.load_epitome,
        lexical=False,
        score=None,
        data_card=(
            "EPITOME, Reddit part (Sharma et al., EMNLP 2020; github.com/behavioral-data/"
            "Empathy-Mental-Health @0e11f98): 2,423 English seeker-post/response pairs rated 0/1/2 "
            "for emotional reactions, interpretations and explorations. Sub-output label = level "
            ">= 1 for that mechanism; `empathy` = emotional reactions or interpretations >= 1."
        ),
        licence=(
            "NON-COMMERCIAL RESEARCH USE ONLY (Althoff academic licence: 'for non-profit academic "
            "research purposes'). Disable this head in models/manifest.yaml (enabled: false) for "
            "commercial use; empathy model checks then report not applicable."
        ),
        measures=(
            "P(the agent turn communicates empathy towards the customer: warmth, concern, "
            "understanding of their situation), overall and per EPITOME mechanism."
        ),
        zh_labels={"empathy": lambda lab: float(lab["empathy"] >= 1)},
        research_only=True,
    ),
    "accuracy": Task(
        head="accuracy",
        kind="turn",
        blocks=("text", "pair"),
        targets={"accuracy": lambda lab: float(lab["informative"] > 0.5)},
        load=data.stc3_helpdesk_turns,
        lexical=True,
        score="informative",
        data_card=(
            "STC-3 DCH-1 (NTCIR-14; Zeng et al., EVIA 2017; github.com/SB233/stc3-dataset "
            "@90da527): helpdesk turns of Weibo customer-helpdesk dialogues (zh, and their en "
            "translations), each with nugget labels from 19 annotators. Label = the majority "
            "marked the turn a helpdesk nugget (HNUG or HNUG*: it moves the customer towards a "
            "solution) rather than HNaN (not a nugget)."
        ),
        licence="Annotations CC BY 4.0 (STC-3 terms); dialogue texts crawled from Weibo.",
        measures=(
            "Informativeness / helpful answer: P(the turn is a useful answer to the customer's "
            "request). It does NOT check facts against shop policy; the policy-facts rules do."
        ),
    ),
    "resolution": Task(
        head="resolution",
        kind="conversation",
        blocks=("conversation",),
        targets={"resolution": lambda lab: float(lab["A"] > 0)},
        load=data.load_stc3,
        lexical=True,
        score="A",
        data_card=(
            "STC-3 DCH-1 (as for accuracy): whole zh and en dialogues with task accomplishment A "
            "(-2..2) from 19 annotators. Label = mean A > 0 (accomplished)."
        ),
        licence="Annotations CC BY 4.0 (STC-3 terms); dialogue texts crawled from Weibo.",
        measures="P(the customer's problem was solved in the conversation), as judged by readers.",
    ),
    "satisfaction": Task(
        head="satisfaction",
        kind="conversation",
        blocks=("conversation",),
        targets={
            "satisfaction": lambda lab: float(lab["S"] > 0 if "S" in lab else lab["overall"] > 3)
        },
        load=lambda d: data.load_stc3(d) + data.load_uss(d),
        lexical=True,
        score="satisfaction_score",
        data_card=(
            "STC-3 DCH-1 (zh + en; customer satisfaction S, -2..2, 19 annotators; label = mean "
            "S > 0) and USS (Sun et al., SIGIR 2021; github.com/sunnweiwei/user-satisfaction-"
            "simulation @8ba06bd): English SGD, MultiWOZ, ReDial and CCPE dialogues with "
            "dialogue-level OVERALL satisfaction 1..5 (label = mean > 3)."
        ),
        licence=(
            "STC-3 annotations CC BY 4.0; USS has no licence file (underlying SGD: CC BY-SA 4.0, "
            "MultiWOZ: MIT, ReDial: CC BY 4.0, CCPE: CC BY-SA 4.0) - check before commercial use."
        ),
        measures="P(the customer ends the conversation satisfied), as judged by readers.",
    ),
}


def score_of(task: Task, ex: Example) -> float | None:
    """The continuous annotator score behind the binary label (for Spearman), if any."""
    if task.score == "satisfaction_score":
        # put both scales on -2..2 so one Spearman spans the mixed test set
        return ex.labels["S"] if "S" in ex.labels else (ex.labels["overall"] - 3.0)
    return ex.labels.get(task.score) if task.score else None


def source_of(ex: Example) -> str:
    return ex.source if isinstance(ex, Dialogue) else "all"
