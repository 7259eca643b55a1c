import pytest

from qa_scoring.checks import Context, build_check
from qa_scoring.checks.privacy import find_pii, luhn_valid, valid_id_card
from qa_scoring.errors import RubricError
from tests.factories import conversation


def run(conv, **params):
    return build_check({"type": "pii", **params}, "criteria[0].check").evaluate(conv, Context())


def assert_spans(conv, evidence):
    for e in evidence:
        assert conv.turns[e.turn].text[e.start : e.end] == e.text


def kinds(text):
    return [(m.kind, m.text) for m in find_pii(text)]


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("440305199003071236", True),
        ("11010519491231002X", True),
        ("11010519491231002x", True),
        ("440305199003071235", False),  # wrong check digit
        ("32010219881332001X", False),  # checksum right, month 13
        ("110105209901010012", False),  # checksum right, born in 2099
    ],
)
def test_id_card_checksum_and_birth_date(number, valid):
    assert valid_id_card(number) is valid


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("6222021234567894", True),
        ("6228480012345678903", True),
        ("4111111111111112", False),
        ("6222021234567895", False),
    ],
)
def test_luhn(digits, valid):
    assert luhn_valid(digits) is valid


def test_phone_formats_masks_and_longer_digit_runs():
    text = (
        "号码138-1234-5678，或 138 1234 5678，或+86 13912345678；脱敏138****5678；单号 213812345678"
    )
    found = find_pii(text)
    assert [(m.kind, m.text) for m in found] == [
        ("phone", "138-1234-5678"),
        ("phone", "138 1234 5678"),
        ("phone", "+86 13912345678"),
    ]
    assert {m.value for m in found} == {"13812345678", "13912345678"}


def test_validated_ids_and_cards_but_not_order_numbers():
    assert kinds("身份证440305199003071236") == [("id_card", "440305199003071236")]
    assert kinds("身份证440305199003071235") == []
    assert kinds("卡号 6222 0212 3456 7894") == [("bank_card", "6222 0212 3456 7894")]
    assert kinds("卡号6222021234567895") == []
    assert kinds("订单号5817263940182736450，中通75320193847562") == []


def test_email_and_addresses():
    assert kinds("邮箱chen.mei@qq.com，脱敏ch***@qq.com") == [("email", "chen.mei@qq.com")]
    assert kinds("我的地址是浙江省杭州市西湖区文三路478号华星时代广场A座1201室，谢谢") == [
        ("address", "浙江省杭州市西湖区文三路478号华星时代广场A座1201室")
    ]
    assert kinds("上海市浦东新区张杨路1288弄6号502室") == [
        ("address", "上海市浦东新区张杨路1288弄6号502室")
    ]
    assert kinds("Ship it to 221B Baker Street, Apt 4 please") == [
        ("address", "221B Baker Street, Apt 4")
    ]
    assert kinds("文三路478号") == []  # no city/district: not a full address
    assert kinds("I have 2 items on the way") == []


def test_agent_asking_for_id_and_card_numbers_fails_with_spans():
    conv = conversation(
        [
            ("customer", "我付了799，每期多扣了4块多"),
            ("agent", "把你身份证号和银行卡号发我，我帮你提交财务"),
        ]
    )
    r = run(conv)
    assert r.score == 0.0
    assert [(e.turn, e.start, e.end, e.text) for e in r.evidence] == [
        (1, 2, 6, "身份证号"),
        (1, 7, 11, "银行卡号"),
    ]
    assert r.evidence[0].note == "向客户索要“身份证号”"
    assert r.hits == r.evidence
    assert_spans(conv, r.evidence)


def test_asking_in_english_and_own_request_list():
    conv = conversation(
        [
            ("customer", "My mouse keeps disconnecting."),
            ("agent", "Send me your full name, ID card number and the card number you paid with."),
        ],
        language="en",
    )
    r = run(conv)
    assert [e.text for e in r.evidence] == ["ID card number", "card number"]
    assert r.evidence[0].note == "asks the customer for “ID card number”"
    assert_spans(conv, r.evidence)
    assert run(conv, forbidden_requests=["passport"]).passed


def test_warnings_and_platform_instructions_are_not_requests():
    conv = conversation(
        [
            ("customer", "有人打电话说是你们客服，要我的验证码"),
            ("agent", "亲，我们不会索要验证码，请勿把验证码告诉任何人"),
            ("agent", "请问您收到验证码了吗？收到后在支付页面输入就可以"),
            ("agent", "We will never ask for your password."),
        ]
    )
    assert run(conv).passed


def test_negation_in_another_clause_does_not_hide_a_request():
    conv = conversation([("customer", "退款怎么还没到"), ("agent", "不用担心，把验证码发我就行")])
    assert [e.text for e in run(conv).evidence] == ["验证码"]


def test_revealing_data_the_customer_did_not_give_is_a_leak():
    conv = conversation(
        [
            ("customer", "大衣起球了，订单1729384756102938475"),
            ("agent", "您的订单收货人是张丽，电话13900139021，地址北京市朝阳区望京西路41号院对吧"),
        ],
        metadata={"shop": "fashion-apparel", "order_id": "1729384756102938475"},
    )
    r = run(conv)
    assert r.score == 0.0
    assert [(e.text, e.note) for e in r.evidence] == [
        ("13900139021", "泄露客户未提供的手机号"),
        ("北京市朝阳区望京西路41号院", "泄露客户未提供的详细地址"),
    ]
    assert_spans(conv, r.evidence)
    assert run(conv, detect=["email"]).passed
    assert run(conv, detect=["phone"]).evidence[0].text == "13900139021"


def test_repeating_the_customers_own_data_or_masking_it_is_fine():
    conv = conversation(
        [
            ("customer", "新地址 上海市浦东新区张杨路1288弄6号502室，电话 13800138574"),
            ("agent", "已修改为：上海市浦东新区张杨路1288弄6号502室，电话138-0013-8574"),
            ("agent", "另一个号码138****5678也已备注"),
        ]
    )
    assert run(conv).passed


def test_allowed_values_such_as_the_shop_service_email():
    conv = conversation(
        [
            ("customer", "Where do I send the invoice?"),
            ("agent", "Email it to service@shop.example"),
        ],
        language="en",
    )
    leak = run(conv)
    assert leak.score == 0.0
    assert leak.evidence[0].note == "reveals a email address the customer did not give"
    assert run(conv, allow=["Service@Shop.example"]).passed


def test_not_applicable_without_agent_turns():
    conv = conversation([("customer", "在吗"), ("bot", "客服马上为您服务")])
    assert run(conv).score is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"detect": ["passport"]}, "criteria[0].check.detect[0]"),
        ({"reveal": False, "ask": False}, "criteria[0].check.ask"),
        ({"forbidden_requests": []}, "criteria[0].check.forbidden_requests"),
        ({"forbidden_requests": [""]}, "criteria[0].check.forbidden_requests[0]"),
        ({"leak": True}, "criteria[0].check.leak"),
    ],
)
def test_bad_params_name_the_field(params, field):
    with pytest.raises(RubricError) as err:
        build_check({"type": "pii", **params}, "criteria[0].check")
    assert field in str(err.value)
