from pathlib import Path

import pytest

from qa_scoring.checks import Context, build_check
from qa_scoring.checks.policy import chinese_number, find_claims, parse_number
from qa_scoring.errors import QAScoringError, RubricError
from qa_scoring.policy import PolicyError, ShopPolicy, load_policies
from tests.factories import conversation

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"
HOME = ShopPolicy(
    shop="home-goods",
    name={"zh": "家居好物旗舰店", "en": "Home Goods Flagship Store"},
    return_window_days=7,
    exchange_window_days=15,
    warranty_months=12,
    dispatch_hours=48,
    free_shipping_over=99,
    products=[
        {"sku": "LAMP-01", "name": {"zh": "护眼台灯", "en": "eye-care desk lamp"}, "price": 129},
        {"sku": "MOP-09", "name": {"zh": "平板拖把", "en": "flat mop"}, "price": 39},
    ],
)
HOME_CONTEXT = Context(policy=HOME.model_dump())


def agent_says(*texts, language="zh"):
    turns = [("customer", "请问一下" if language == "zh" else "Quick question")]
    return conversation(
        turns + [("agent", t) for t in texts], language=language, metadata={"shop": "home-goods"}
    )


def run(conv, context=HOME_CONTEXT, **params):
    check = build_check({"type": "policy_facts", **params}, "criteria[0].check")
    return check.evaluate(conv, context)


def assert_spans(conv, evidence):
    for e in evidence:
        assert conv.turns[e.turn].text[e.start : e.end] == e.text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("七", 7),
        ("十", 10),
        ("十五", 15),
        ("二十四", 24),
        ("两", 2),
        ("一百零五", 105),
        ("半", 0.5),
    ],
)
def test_chinese_numerals(text, value):
    assert chinese_number(text) == value


def test_parse_number_handles_digits_words_and_thousands():
    assert parse_number("1,699") == 1699
    assert parse_number("Seven") == 7
    assert parse_number("四十八") == 48


def test_correct_zh_claims_pass_and_are_visible_as_hits():
    conv = agent_says(
        "亲放心，整灯保修12个月；收到后7天内不喜欢也可以无理由退货",
        "我们48小时内发货，满99包邮，15天换货期内都可以换",
        "护眼台灯129元，平板拖把，39元",
    )
    r = run(conv)
    assert r.score == 1.0 and r.evidence == ()
    assert [h.text for h in r.hits] == [
        "保修12个月",
        "7天内不喜欢也可以无理由退货",
        "48小时内发货",
        "满99包邮",
        "15天换货",
        "护眼台灯129元",
        "平板拖把，39元",
    ]
    assert r.hits[0].note == "称12个月；符合店铺政策 保修 12 个月"
    assert_spans(conv, r.hits)


def test_wrong_zh_claim_has_exact_span_and_note_citing_the_policy():
    conv = agent_says("可以的亲，我们支持15天内可以退的，放心购买~")
    r = run(conv)
    assert r.score == 0.0
    (e,) = r.evidence
    assert (e.turn, e.text) == (1, "15天内可以退")
    assert conv.turns[1].text[e.start : e.end] == e.text
    assert e.note == "称15天；店铺政策 7 天无理由退货"


def test_chinese_numerals_in_claims():
    conv = agent_says("这种情况可以直接走七天无理由", "保修一年", "质保两年哦", "两天内发货")
    r = run(conv)
    assert [h.text for h in r.hits] == ["七天无理由", "保修一年", "两天内发货"]
    assert [(e.text, e.note) for e in r.evidence] == [
        ("质保两年", "称24个月；店铺政策 保修 12 个月")
    ]
    assert r.score == pytest.approx(3 / 4)


def test_english_claims_and_notes():
    conv = agent_says(
        "We offer 30-day returns and a 12-month warranty.",
        "Orders ship within 24 hours, and free shipping on orders over $99.",
        language="en",
    )
    r = run(conv)
    assert [(e.text, e.note) for e in r.evidence] == [
        ("30-day returns", "said 30 days; policy return_window_days = 7 (home-goods)"),
        ("ship within 24 hours", "said 24 hours; policy dispatch_hours = 48 (home-goods)"),
    ]
    assert [h.text for h in r.hits] == ["12-month warranty", "free shipping on orders over $99"]
    assert r.score == pytest.approx(0.5)
    assert_spans(conv, r.evidence + r.hits)


def test_wrong_free_shipping_and_prices():
    conv = agent_says("满199才包邮", "全场包邮哦", "The eye-care desk lamp is ¥139.", language="zh")
    r = run(conv)
    assert [(e.text, e.note) for e in r.evidence] == [
        ("满199才包邮", "称199元；店铺政策 满 99 元包邮"),
        ("全场包邮", "称全场包邮；店铺政策 满 99 元包邮"),
        ("eye-care desk lamp is ¥139", "称139元；店铺政策 护眼台灯 售价 129 元"),
    ]
    assert r.score == 0.0


def test_price_tolerance():
    conv = agent_says("护眼台灯现在130元")
    assert run(conv).score == 0.0
    assert run(conv, tolerance=1).passed


def test_prices_pair_one_to_one_and_skip_discounts_totals_and_refunds():
    conv = agent_says(
        "护眼台灯129元，羽绒服399元",
        "平板拖把和浴巾一起是108元",
        "护眼台灯满300减50，到手119元",
        "平板拖把退款39元已提交",
    )
    r = run(conv)
    assert [h.text for h in r.hits] == ["护眼台灯129元"]
    assert r.evidence == ()


def test_facts_param_limits_what_is_checked():
    conv = agent_says("我们支持15天无理由退货，护眼台灯129元")
    assert run(conv, facts=["price"]).passed
    assert run(conv, facts=["return_window"]).score == 0.0


def test_find_claims_reports_values_in_policy_units():
    claims = find_claims("保修半年，三天内发货，7天无理由退换货", HOME)
    assert [(c.fact, c.value) for c in claims] == [
        ("warranty", 6),
        ("dispatch", 72),
        ("return_window", 7),
    ]


def test_not_applicable_without_policy_or_claims():
    conv = agent_says("我们支持15天无理由退货")
    r = run(conv, context=Context())
    assert r.score is None and "home-goods" in r.detail
    assert run(agent_says("亲，您好，有什么可以帮您？")).score is None
    sparse = ShopPolicy(shop="sparse", name={"zh": "小店"})
    assert run(conv, context=Context(policy=sparse.model_dump())).score is None


def test_load_example_policies():
    policies = load_policies(EXAMPLES)
    assert set(policies) == {"home-goods", "digital-3c", "fashion-apparel"}
    home = policies["home-goods"]
    assert (home.return_window_days, home.dispatch_hours, home.free_shipping_over) == (7, 48, 99)
    assert home.delivery_days is not None and home.delivery_days.max == 5
    lamp = next(p for p in home.products if p.sku == "LAMP-01")
    assert (lamp.name["zh"], lamp.price) == ("护眼台灯", 129)
    conv = agent_says("护眼台灯129元，7天无理由退货")
    assert run(conv, context=Context(policy=home.model_dump())).passed


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (
            "shop: x\nname: {zh: 店}\nproducts:\n  - {sku: A, name: {zh: 灯}, price: -1}\n",
            "products[0].price",
        ),
        ("shop: x\nname: {zh: 店}\nreturn_window_days: seven\n", "return_window_days"),
        ("shop: x\nname: {zh: 店}\ndelivery_days: {min: 5, max: 2}\n", "delivery_days"),
        ("shop: x\nname: {zh: 店}\nwarranty: 12\n", "warranty"),
        ("name: {zh: 店}\n", "shop"),
        ("- just a list\n", "(policy)"),
        ("shop: [unclosed\n", "(file)"),
    ],
)
def test_bad_policy_files_name_file_and_field(tmp_path, content, field):
    (tmp_path / "bad.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policies(tmp_path)
    assert "bad.yaml" in str(err.value) and field in str(err.value)
    assert isinstance(err.value, QAScoringError)


def test_duplicate_shops_and_missing_directory(tmp_path):
    for name in ("a.yaml", "b.yml"):
        (tmp_path / name).write_text("shop: x\nname: {zh: 店}\n", encoding="utf-8")
    with pytest.raises(
        PolicyError, match=r"b\.yml: shop: shop 'x' is already defined in .*a\.yaml"
    ):
        load_policies(tmp_path)
    with pytest.raises(PolicyError, match="not a directory"):
        load_policies(tmp_path / "missing")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"facts": ["delivery"]}, "criteria[0].check.facts[0]"),
        ({"facts": []}, "criteria[0].check.facts"),
        ({"tolerance": -1}, "criteria[0].check.tolerance"),
        ({"shop": "home-goods"}, "criteria[0].check.shop"),
    ],
)
def test_bad_params_name_the_field(params, field):
    with pytest.raises(RubricError) as err:
        build_check({"type": "policy_facts", **params}, "criteria[0].check")
    assert field in str(err.value)
