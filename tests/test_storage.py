"""Storage on SQLite and PostgreSQL: migrations, upserts, tenant isolation, overrides, rubric
versions and the rows agent evaluations read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from qa_scoring.checks import CheckResult
from qa_scoring.checks.base import Evidence
from qa_scoring.conversation import Conversation
from qa_scoring.errors import InputError, NotFound, RubricError
from qa_scoring.scoring import CriterionResult, Score
from qa_scoring.storage import repository as repo
from qa_scoring.storage.db import alembic_config, make_engine, migrate, session_factory
from qa_scoring.storage.models import Base, ScoreRecord
from tests.factories import START, conversation

A, B = "shop-a", "shop-b"


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    migrate(db_url)
    factory = session_factory(db_url)
    yield factory
    factory.kw["bind"].dispose()


def conv(conv_id: str = "c-1", **fields) -> Conversation:
    return conversation(
        [("customer", "我的台灯坏了", 0), ("agent", "亲，非常抱歉，我马上为您处理", 30)],
        id=conv_id,
        **fields,
    )


def score(
    conv_id: str = "c-1",
    *,
    overall: float = 80.0,
    version: str = "1.0.0",
    rubric_id: str = "ecommerce-zh",
    flags: tuple[str, ...] = (),
    agent_id: str = "a-01",
    team: str | None = "after-sales",
    started_at: datetime | None = START,
) -> Score:
    greeting = CriterionResult(
        criterion="greeting",
        dimension="attitude",
        points_possible=5,
        critical=False,
        result=CheckResult(
            score=0.0,
            source="keyword:greeting",
            evidence=(Evidence(1, 0, 0, "", "no greeting"),),
        ),
    )
    return Score(
        conversation_id=conv_id,
        agent_id=agent_id,
        team=team,
        language="zh",
        channel="chat",
        started_at=started_at,
        overall=overall,
        passed=overall >= 80,
        auto_failed=False,
        dimensions={"attitude": 50.0, "resolution": 90.0},
        criteria=[greeting],
        flags=list(flags),
        needs_review=bool(flags),
        review_reasons=list(flags),
        metrics={"first_response_s": 30.0},
        rubric={"id": rubric_id, "version": version},
        models={"politeness": "1.0.0"},
    )


def store(session: Session, tenant: str = A, conv_id: str = "c-1", **kwargs) -> int:
    data = conv(conv_id).model_dump(mode="json")
    return repo.save_score(session, tenant, score(conv_id, **kwargs), data)


def count_scores(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ScoreRecord))


RUBRIC_YAML = """
id: tiny
version: "{version}"
name: {{en: Tiny}}
pass_mark: 80
dimensions: [{{id: attitude, name: {{en: Attitude}}}}]
criteria:
  - id: greeting
    dimension: attitude
    name: {{en: Greeting}}
    points: {points}
    check: {{type: keyword, phrases: [hello], scope: {{role: agent, position: first}}}}
"""


# ---- schema ------------------------------------------------------------------------------------


def test_migrate_from_empty_builds_the_models_schema(db_url: str) -> None:
    migrate(db_url)
    migrate(db_url)  # idempotent: every start runs it
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert {"tenants", "conversations", "scores", "overrides", "rubric_versions"} <= tables
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
            assert context.get_current_revision() == head
            assert compare_metadata(context, Base.metadata) == []  # migrations == models
    finally:
        engine.dispose()


# ---- conversations and scores ------------------------------------------------------------------


def test_rescoring_with_the_same_rubric_version_replaces_the_row(sessions) -> None:
    with sessions.begin() as s:
        first = store(s, overall=70.0)
    with sessions.begin() as s:
        again = store(s, overall=85.0, flags=("borderline",))
        assert again == first
        assert count_scores(s) == 1
        latest = repo.get_latest_score(s, A, "c-1")
        assert (latest.overall, latest.flags, latest.needs_review) == (85.0, ["borderline"], True)
    with sessions.begin() as s:
        newer = store(s, overall=90.0, version="1.1.0")
        assert newer != first
        assert count_scores(s) == 2
        assert repo.get_latest_score(s, A, "c-1").rubric_version == "1.1.0"


def test_upsert_refreshes_rows_already_loaded_in_the_session(sessions) -> None:
    with sessions.begin() as s:
        store(s, overall=70.0)
        assert repo.list_scores(s, A)[0].overall == 70.0
        store(s, overall=95.0)
        assert repo.list_scores(s, A)[0].overall == 95.0


def test_score_keeps_the_full_document_and_aware_timestamps(sessions) -> None:
    with sessions.begin() as s:
        store(s)
    with sessions() as s:
        stored = repo.get_latest_score(s, A, "c-1")
        assert stored.score == score().to_dict()
        assert stored.score["criteria"][0]["evidence"][0]["note"] == "no greeting"
        assert stored.started_at == START and stored.started_at.utcoffset() == timedelta(hours=8)
        assert stored.scored_at.tzinfo is not None
        assert datetime.now(UTC) - stored.scored_at < timedelta(minutes=5)


def test_reingesting_a_conversation_updates_it(sessions) -> None:
    with sessions.begin() as s:
        first = repo.save_conversation(s, A, conv(team="after-sales"))
    with sessions.begin() as s:
        again = repo.save_conversation(s, A, conv(team="pre-sale", outcome={"csat": 5}))
        assert again == first
    with sessions() as s:
        stored = repo.get_conversation(s, A, "c-1")
        assert stored.team == "pre-sale" and stored.outcome.csat == 5
        assert stored.turns[1].text == "亲，非常抱歉，我马上为您处理"
        assert stored.started_at == START


def test_save_score_needs_its_conversation(sessions) -> None:
    with sessions.begin() as s, pytest.raises(NotFound):
        repo.save_score(s, A, score("never-stored"))
    with sessions.begin() as s, pytest.raises(InputError, match="id: is 'c-2'"):
        repo.save_score(s, A, score("c-1"), conv("c-2").model_dump(mode="json"))
    with sessions.begin() as s:  # stored separately first, as the scoring service does
        repo.save_conversation(s, A, conv("c-3"))
        repo.save_score(s, A, score("c-3"))
        assert repo.get_latest_score(s, A, "c-3").conversation_id == "c-3"


def test_list_scores_filters_and_pages(sessions) -> None:
    day = timedelta(days=1)
    with sessions.begin() as s:
        store(s, conv_id="c-1", agent_id="a-01", started_at=START)
        store(
            s,
            conv_id="c-2",
            agent_id="a-02",
            team="pre-sale",
            started_at=START + day,
            flags=("auto_fail", "low_confidence"),
        )
        store(s, conv_id="c-3", agent_id="a-01", started_at=START + 2 * day, flags=("long_wait",))
    with sessions() as s:

        def ids(**filters) -> list[str]:
            return [x.conversation_id for x in repo.list_scores(s, A, **filters)]

        assert ids() == ["c-3", "c-2", "c-1"]  # newest conversation first
        assert ids(agent_id="a-01") == ["c-3", "c-1"]
        assert ids(team="pre-sale") == ["c-2"]
        assert ids(since=START + day) == ["c-3", "c-2"]
        assert ids(until=START + day) == ["c-1"]
        assert ids(flag="low_confidence") == ["c-2"]
        assert ids(flag="long_wait") == ["c-3"]
        assert ids(flag="borderline") == []
        assert ids(needs_review=False) == ["c-1"]
        assert ids(limit=2, offset=1) == ["c-2", "c-1"]


def test_tenants_cannot_read_each_others_rows(sessions) -> None:
    with sessions.begin() as s:
        score_id = store(s, A)
        repo.add_override(s, A, score_id, value=90, reason="evidence misread", author="lead")
    with sessions.begin() as s:
        assert repo.list_scores(s, B) == []
        assert repo.evaluation_rows(s, B) == []
        assert repo.list_overrides(s, B, score_id) == []
        with pytest.raises(NotFound):
            repo.get_conversation(s, B, "c-1")
        with pytest.raises(NotFound):
            repo.get_latest_score(s, B, "c-1")
        with pytest.raises(NotFound):
            repo.add_override(s, B, score_id, value=0, reason="x", author="y")
    with sessions.begin() as s:  # B's conversation with the same id is B's own row
        other = store(s, B, overall=40.0)
        assert other != score_id
        assert repo.get_latest_score(s, A, "c-1").overall == 80.0
        assert repo.get_latest_score(s, B, "c-1").overall == 40.0


# ---- overrides ---------------------------------------------------------------------------------


def test_overrides_are_new_records_and_leave_the_score_alone(sessions) -> None:
    with sessions.begin() as s:
        score_id = store(s, overall=70.0)
        overall = repo.add_override(
            s, A, score_id, value=85, reason="model misread the apology", author="lead-1"
        )
        points = repo.add_override(
            s, A, score_id, criterion="greeting", value=5, reason="亲 is a greeting", author="l2"
        )
        assert (overall.criterion, overall.value, overall.previous) == (None, 85, 70.0)
        assert (points.criterion, points.value, points.previous) == ("greeting", 5, 0.0)
    with sessions.begin() as s:
        assert repo.get_latest_score(s, A, "c-1").overall == 70.0
        store(s, overall=72.0)  # re-scored: same row, so the corrections stay attached
        trail = repo.list_overrides(s, A, score_id)
        assert [(o.criterion, o.author) for o in trail] == [(None, "lead-1"), ("greeting", "l2")]
        assert trail[0].created_at.tzinfo is not None


def test_override_validation_names_the_field(sessions) -> None:
    with sessions.begin() as s:
        score_id = store(s)
    with sessions() as s:
        with pytest.raises(InputError, match="criterion: 'closing' is not in this score"):
            repo.add_override(s, A, score_id, criterion="closing", value=1, reason="r", author="a")
        with pytest.raises(InputError, match="value: must be between 0 and 5"):
            repo.add_override(s, A, score_id, criterion="greeting", value=6, reason="r", author="a")
        with pytest.raises(InputError) as exc:
            repo.add_override(s, A, score_id, value=101, reason=" ", author="a")
        assert [e.field for e in exc.value.errors] == ["value", "reason"]
        with pytest.raises(NotFound):
            repo.add_override(s, A, score_id + 1000, value=50, reason="r", author="a")


# ---- rubric versions ---------------------------------------------------------------------------


def test_rubric_versions_and_the_active_one(sessions) -> None:
    v1 = RUBRIC_YAML.format(version="1.0.0", points=5)
    v2 = RUBRIC_YAML.format(version="1.1.0", points=10)
    with sessions.begin() as s:
        stored = repo.save_rubric_version(s, A, v1)
        assert (stored.rubric_id, stored.version, stored.active) == ("tiny", "1.0.0", False)
        assert repo.save_rubric_version(s, A, v1) == stored  # same text again: no-op
        repo.save_rubric_version(s, A, v2)
        assert repo.active_rubric(s, A, "tiny") is None
        repo.set_active_rubric(s, A, "tiny", "1.0.0")
        assert repo.active_rubric(s, A, "tiny").version == "1.0.0"
    with sessions.begin() as s:
        repo.set_active_rubric(s, A, "tiny", "1.1.0")
        repo.set_active_rubric(s, A, "tiny", "1.1.0")  # again: still exactly one active
        active = repo.active_rubric(s, A, "tiny")
        assert (active.version, active.yaml_text) == ("1.1.0", v2)
        assert repo.active_rubric(s, B, "tiny") is None
        with pytest.raises(NotFound):
            repo.set_active_rubric(s, B, "tiny", "1.1.0")


def test_rubric_versions_are_validated_and_immutable(sessions) -> None:
    with sessions.begin() as s:
        repo.save_rubric_version(s, A, RUBRIC_YAML.format(version="1.0.0", points=5))
    with sessions() as s:
        changed = RUBRIC_YAML.format(version="1.0.0", points=7)
        with pytest.raises(RubricError, match=r"version: 1\.0\.0 of tiny is stored with other"):
            repo.save_rubric_version(s, A, changed)
        with pytest.raises(RubricError, match=r"criteria\[0\].points"):
            repo.save_rubric_version(s, A, RUBRIC_YAML.format(version="2.0.0", points=-1))
        with pytest.raises(RubricError, match="not valid YAML"):
            repo.save_rubric_version(s, A, "id: [unclosed")


# ---- evaluation rows ---------------------------------------------------------------------------


def test_evaluation_rows_take_the_newest_rubric_version_and_overall_overrides(sessions) -> None:
    with sessions.begin() as s:
        repo.save_conversation(s, A, conv("c-1", outcome={"csat": 4, "converted": True}))
        repo.save_score(s, A, score("c-1", overall=60.0, version="1.9.0"))
        newest = repo.save_score(s, A, score("c-1", overall=70.0, version="1.10.0"))
        repo.add_override(s, A, newest, value=75, reason="first look", author="lead")
        repo.add_override(s, A, newest, value=88, reason="second look", author="lead")
        repo.add_override(s, A, newest, criterion="greeting", value=5, reason="r", author="l")
        store(s, conv_id="c-2", overall=50.0)
    with sessions() as s:
        rows = {r.conversation_id: r for r in repo.evaluation_rows(s, A)}
        assert rows["c-1"].overall == 88  # the latest overall correction
        assert (rows["c-1"].csat, rows["c-1"].converted) == (4, True)
        assert rows["c-2"].overall == 50.0
        assert rows["c-1"].started_at == START
        assert rows["c-1"].started_at.utcoffset() == timedelta(hours=8)  # its own offset
        assert repo.evaluation_rows(s, A, since=START + timedelta(seconds=1)) == []
        assert len(repo.evaluation_rows(s, A, until=START + timedelta(seconds=1))) == 2
        assert repo.evaluation_rows(s, A, rubric_id="other") == []


def test_evaluation_rows_without_offsets_or_timestamps(sessions) -> None:
    naive = START.replace(tzinfo=None)
    with sessions.begin() as s:
        local = Conversation.parse(
            {
                "id": "naive",
                "agent_id": "a-01",
                "turns": [{"role": "customer", "text": "在吗", "ts": naive.isoformat()}],
            }
        )
        untimed = conversation([("customer", "在吗")], id="untimed")
        for c in (local, untimed):
            repo.save_conversation(s, A, c)
            repo.save_score(s, A, score(c.id, started_at=c.started_at))
    with sessions() as s:
        rows = {r.conversation_id: r for r in repo.evaluation_rows(s, A)}
        assert rows["naive"].started_at == naive  # wall-clock time, as the helpdesk sent it
        received = rows["untimed"].started_at
        assert received.tzinfo is not None
        assert datetime.now(UTC) - received < timedelta(minutes=5)
        assert [x.started_at for x in repo.list_scores(s, A)] == [naive, None]
