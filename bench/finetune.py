"""The fine-tuning lab on this CPU: MiniLM-L6 fine-tuned on a domain slice of the shared data, one fresh process per
run (so each peak memory is its own), written to ``docs/benchmarks-finetune.md``.

Runs: STS-B train pairs scored ≥ 4 (500 pairs; the held-out scored pairs also give STS Spearman) and AG News
title → description pairs (500 and 2,000), each without and with hard negatives where it matters; and
sentence-transformers' own trainer on the same 500 STS-B pairs (MultipleNegativesRankingLoss, batch 32, 1 epoch),
with torch's default threads and with the lab's, to show what the lab adds around it. Before/after is measured on
pairs held out (seeded, 20%) before any training, with 95% paired-bootstrap intervals on the change.

Usage: ``python bench/finetune.py`` (about 20 minutes on 2 cores). Needs ``../shared/data``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
from common import ROOT, SHARED, machine, peak_gib  # noqa: E402

OUT = ROOT / "docs" / "benchmarks-finetune.md"
TEST_SHARE, SEED, BATCH = 0.2, 0, 32

RUNS = [  # (label, data, training pairs, what runs, hard negatives)
    ("sentence-transformers trainer, torch's default threads", "stsb", 500, "raw-default", False),
    ("sentence-transformers trainer, the lab's threads", "stsb", 500, "raw-lab", False),
    ("vecexplore FineTuner", "stsb", 500, "lab", False),
    ("vecexplore FineTuner + hard negatives", "stsb", 500, "lab", True),
    ("vecexplore FineTuner", "ag", 500, "lab", False),
    ("vecexplore FineTuner", "ag", 2000, "lab", False),
    ("vecexplore FineTuner + hard negatives", "ag", 2000, "lab", True),
]


def stsb_file(folder: Path) -> tuple[Path, str]:
    """Every scored STS-B train pair, minus the later positives (score ≥ 4) of an anchor already seen with another
    positive (the lab asks for one positive per anchor)."""
    seen: set[str] = set()
    rows, dropped = [], 0
    with open(SHARED / "stsb-en-train.csv", newline="", encoding="utf-8") as fh:
        for a, b, score in csv.reader(fh):
            if float(score) >= 4:
                if a in seen:
                    dropped += 1
                    continue
                seen.add(a)
            rows.append((a, b, score))
    path = folder / "stsb-train.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("sentence1", "sentence2", "score"), *rows])
    return path, (f"STS-B train (`stsb-en-train.csv`): {len(rows):,} scored pairs, positives = score ≥ 4 "
                  f"({dropped} later positives of a repeated anchor dropped)")


def ag_file(folder: Path) -> tuple[Path, str]:
    """AG News test split as title → description pairs (a title's first occurrence only)."""
    seen: dict[str, str] = {}
    with open(SHARED / "ag_news_test.csv", newline="", encoding="utf-8") as fh:
        for _, title, description in csv.reader(fh):
            seen.setdefault(" ".join(title.split()), " ".join(description.replace("\\", " ").split()))
    path = folder / "ag-news-title-description.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("anchor", "positive"), *seen.items()])
    return path, f"AG News test split (`ag_news_test.csv`), all four classes: {len(seen):,} title → description pairs"


def training_pairs(path: Path, n: int):
    """The seeded held-out split of the file, and a seeded sample of ``n`` of its training pairs."""
    from vecexplore.finetuning.tuner import read_pairs_file, split_pairs

    split = split_pairs(read_pairs_file(path.read_bytes(), path.name), TEST_SHARE, SEED)
    if len(split.train) < n:
        raise SystemExit(f"{path.name}: only {len(split.train)} training pairs, {n} asked for")
    pick = np.sort(np.random.default_rng(SEED).permutation(len(split.train))[:n])
    return split, split.train.subset(pick)


def raw_trainer(train, threads: int | None) -> dict:
    """sentence-transformers' own trainer as its documentation writes it: load, dataset, MNRL, batch 32, train."""
    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers import SentenceTransformerTrainingArguments as Args
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from vecexplore.encoders import minilm_folder

    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    model = SentenceTransformer(str(minilm_folder()), device="cpu", local_files_only=True)
    data = Dataset.from_dict({"anchor": list(train.anchors), "positive": list(train.positives)})
    with tempfile.TemporaryDirectory() as out:
        args = Args(output_dir=out, num_train_epochs=1, per_device_train_batch_size=BATCH, seed=SEED,
                    batch_sampler=BatchSamplers.NO_DUPLICATES, report_to="none", save_strategy="no",
                    disable_tqdm=True, use_cpu=True)
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data,
                                             loss=MultipleNegativesRankingLoss(model))
        trainer.train()
    return {"seconds": time.perf_counter() - start, "steps": trainer.state.global_step,
            "threads": torch.get_num_threads(), "n_train": len(train), "peak_gib": peak_gib()}


def child(spec: dict) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.embedder import Embedder
    from vecexplore.encoders import MINILM_ID
    from vecexplore.finetuning.report import finetune
    from vecexplore.finetuning.tuner import FineTuner, Split, idle_cores

    load = os.getloadavg()[0]
    split, train = training_pairs(Path(spec["path"]), spec["n"])
    if spec["mode"] == "raw-default":
        return {**raw_trainer(train, None), "load": load}
    if spec["mode"] == "raw-lab":
        return {**raw_trainer(train, idle_cores()), "load": load}
    tuner = FineTuner(MINILM_ID, batch_size=BATCH, hard_negatives=spec["hard"], seed=SEED)
    trained: dict = {}

    def progress(step: int, steps: int, loss: float | None) -> None:
        if step == steps and "at" not in trained:  # training done: its peak, then the save and the evaluation
            trained.update(at=time.perf_counter(), peak_gib=peak_gib())

    base = Embedder(MINILM_ID, "torch", EmbeddingCache())
    report, _ = finetune(tuner, Split(train, split.held), spec["name"], base, source=Path(spec["path"]).name,
                         seed=SEED, progress=progress)
    evaluation = report.to_dict()
    out = {**tuner.summary(), "peak_gib": trained.get("peak_gib", peak_gib()), "load": load}
    return {**out, **evaluation, "loss": None, "most_changed": None, "notes": [*out["notes"], *evaluation["notes"]],
            "eval_seconds": time.perf_counter() - trained.get("at", time.perf_counter())}


def change(row: dict) -> str:
    return (f"{row['before']:.3f} → {row['after']:.3f} ({row['change']:+.3f}, CI {row['ci_low']:+.3f} to "
            f"{row['ci_high']:+.3f})")


def write(results: list[dict], data: dict[str, str], started: float, load: tuple) -> None:
    m = machine(["vecexplore", "torch", "sentence-transformers", "transformers", "datasets", "accelerate"])
    lines = [
        "# Fine-tuning lab: benchmark", "",
        "Written by `bench/finetune.py` (one run; every number below is from it). all-MiniLM-L6-v2 fine-tuned with "
        "sentence-transformers' trainer and MultipleNegativesRankingLoss (in-batch negatives), batch 32, 1 epoch, "
        "learning rate 5e-5 (the lab's defaults), seed 0, each run in a fresh process. Held-out pairs: a seeded 20% "
        "of each file, split off before any training (no training pair shares a text with them). Recall@10 and MRR: "
        "each held-out anchor ranks every distinct held-out positive; the interval is a 95% paired bootstrap of the "
        "change (1,000 resamples of the anchors). Vectors from sentence-transformers' torch path for both models.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f". Shared with other work: load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) "
        "at the start; each row gives the 1-minute load when it started.", "",
        "Data:", *(f"- **{key}**: {text}" for key, text in data.items()), "",
        "| run | data | pairs trained | steps | threads (load) | training s | peak RSS GiB | recall@10 before → after "
        "(95% CI of change) | MRR before → after (95% CI of change) | STS Spearman before → after | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        metrics = {row["metric"]: row for row in r.get("metrics", [])}
        cells = [change(metrics[k]) if k in metrics else "—" for k in ("recall@10", "MRR", "STS Spearman")]
        lines.append(f"| {r['label']} | {r['data']} | {r['n_train']:,} | {r['steps']} | {r['threads']} "
                     f"({r['load']:.1f}) | {r['seconds']:.1f} | {r['peak_gib']:.2f} | {' | '.join(cells)} | "
                     f"{r.get('outcome', '—')} |")
    lab = next(r for r in results if r["label"] == "vecexplore FineTuner" and r["data"] == "stsb")
    raw = {r["label"]: r for r in results if r["data"] == "stsb" and r["label"].startswith("sentence")}
    same = raw["sentence-transformers trainer, the lab's threads"]
    default = raw["sentence-transformers trainer, torch's default threads"]
    lines += [
        "",
        "Training s: from loading the base model to the end of training (model load, dataset, hard-negative mining "
        "where asked, the trainer), the same span for sentence-transformers' own script; saving takes under a "
        "second more. Peak RSS: the process's maximum resident memory at the end of training.",
        "",
        "## Reading",
        "",
        f"- **500 pairs, 1 epoch: {lab['seconds']:.1f} s** in the lab on {lab['threads']} thread(s) (goal ≤ 30 s). "
        f"sentence-transformers' own trainer on the same pairs took {same['seconds']:.1f} s on {same['threads']} "
        f"thread(s) (the lab adds {lab['seconds'] - same['seconds']:+.1f} s around it) and {default['seconds']:.1f} s "
        f"with torch's default {default['threads']} threads"
        + (": OpenMP threads spinning on a core another process holds, which is why the lab trains only on the "
           "cores no other process is busy on." if default["seconds"] > 1.5 * same["seconds"] else "."),
    ]
    for r in results:
        if "verdict" in r:
            lines.append(f"- {r['label']}, {r['data']}, {r['n_train']:,} pairs: {r['verdict']}")
    for hard in (r for r in results if r["label"].endswith("hard negatives")):
        plain = next(r for r in results if r["label"] == "vecexplore FineTuner" and r["data"] == hard["data"]
                     and r["asked"] == hard["asked"])
        gain = {r["label"]: next(m for m in r["metrics"] if m["metric"] == "MRR") for r in (hard, plain)}
        h, p = gain[hard["label"]], gain[plain["label"]]
        overlap = h["ci_low"] <= p["ci_high"] and p["ci_low"] <= h["ci_high"]
        lines.append(f"- **Hard negatives, {hard['data']}**: MRR change {h['change']:+.3f} (CI {h['ci_low']:+.3f} to "
                     f"{h['ci_high']:+.3f}) against {p['change']:+.3f} (CI {p['ci_low']:+.3f} to {p['ci_high']:+.3f}) "
                     f"without, for {hard['seconds'] / plain['seconds']:.1f}× the training time and "
                     f"{hard['peak_gib'] / plain['peak_gib']:.1f}× the peak memory"
                     + ("; the intervals overlap, so this run does not show that they help." if overlap else "."))
    lines.append("- Memory grows with batch size × text length: a batch holds the activations of every text in it "
                 "for the backward pass, so long texts (news descriptions) and triplets (hard negatives add a third "
                 "text per pair) cost several GiB; a smaller batch size lowers it.")
    lines += [*(f"- Note ({r['label']}, {r['data']}): {n}" for r in results for n in r.get("notes", [])), "",
              f"Total wall time of the benchmark: {(time.perf_counter() - started) / 60:.1f} min.", ""]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {OUT}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(sys.argv[2])), default=float))
        return
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} not found: this benchmark needs the shared reference data")
    started, load = time.perf_counter(), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vecexplore-bench-ft-") as tmp:
        folder = Path(tmp)
        files = {"stsb": stsb_file(folder), "ag": ag_file(folder)}
        env = {**os.environ, "VECEXPLORE_HOME": str(folder / "home")}
        results = []
        for i, (label, data, n, mode, hard) in enumerate(RUNS):
            spec = {"path": str(files[data][0]), "n": n, "mode": mode, "hard": hard, "name": f"bench-{i}"}
            print(f"[{i + 1}/{len(RUNS)}] {label}, {data}, {n} pairs…", flush=True)
            done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=env, text=True,
                                  capture_output=True, check=False)
            if done.returncode:
                raise SystemExit(f"run {label} failed:\n{done.stderr[-4000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results.append({**result, "label": label, "data": data, "asked": n})
            print(f"    {result['seconds']:.1f} s, {result['steps']} steps, peak {result['peak_gib']:.2f} GiB",
                  flush=True)
        write(results, {key: text for key, (_, text) in files.items()}, started, load)


if __name__ == "__main__":
    main()
