"""Fine-tuning a sentence-transformers model on the user's pairs, on a CPU, with sentence-transformers' own trainer.

Training data (:class:`Pairs`): a pairs file (``anchor,positive``, ``anchor,positive,negative``, or STS-style
``sentence1,sentence2,score`` with a threshold for positives), pairs built from a labelled corpus (same label =
positive), or the shipped demo pairs. :func:`split_pairs` / :func:`label_split` hold out a seeded share first; no
held-out text is ever trained on. :class:`FineTuner` trains with ``MultipleNegativesRankingLoss`` (in-batch
negatives; optional hard negatives mined by ``mine_hard_negatives``; optional ``MatryoshkaLoss``) and saves the
model atomically under ``<VECEXPLORE_HOME>/models/finetuned/<name>`` with a manifest naming its base, data and
settings, so it loads like any other model (``finetuned/<name>``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from vecexplore.encoders import MINILM_ID, finetuned, trainable_folder
from vecexplore.encoders._common import folder_digest
from vecexplore.errors import Cancelled, VecexploreError
from vecexplore.files.pairs import TRAINING, read_pairs
from vecexplore.owners import CLI_OWNER
from vecexplore.validation import LIMITS, check

MIN_PAIRS = 10
DEFAULT_THRESHOLD = LIMITS["threshold"].default  # STS scores run 0–5; 4 = "mostly equivalent"
LABEL_WARNING = ("These pairs teach the model your labels: texts that share a label are pulled together and, within "
                 "a batch, texts of other labels pushed apart. The held-out retrieval then measures how well the "
                 "labels are kept, not meaning.")

TrainProgress = Callable[[int, int, float | None], None]  # (step, total steps, latest loss)


@dataclass(frozen=True)
class Pairs:
    """Text pairs: ``anchors[i]`` and ``positives[i]`` (with ``negatives[i]`` for triplets). STS-style files keep
    every scored pair (``scores``): those scoring at least ``threshold`` are the positives."""

    anchors: tuple[str, ...]
    positives: tuple[str, ...]
    negatives: tuple[str, ...] | None = None
    scores: np.ndarray | None = None
    threshold: float | None = None
    name: str = "pairs"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.anchors)

    @property
    def is_positive(self) -> np.ndarray:
        if self.scores is None:
            return np.ones(len(self), dtype=bool)
        return self.scores >= self.threshold

    def subset(self, idx: Sequence[int] | np.ndarray) -> Pairs:
        idx = np.asarray(idx, dtype=int)

        def pick(column: tuple[str, ...] | None) -> tuple[str, ...] | None:
            return None if column is None else tuple(column[i] for i in idx)

        return replace(self, anchors=pick(self.anchors), positives=pick(self.positives),
                       negatives=pick(self.negatives), scores=None if self.scores is None else self.scores[idx])

    def positive_pairs(self) -> Pairs:
        """The pairs to train on (and to retrieve with): the positives, without scores."""
        return replace(self.subset(np.flatnonzero(self.is_positive)), scores=None, threshold=None)

    def texts(self) -> set[str]:
        return {*self.anchors, *self.positives, *(self.negatives or ())}

    def digest(self) -> str:
        """A hash of the rows (text and score), in order."""
        h = hashlib.sha256()
        for i in range(len(self)):
            row = [self.anchors[i], self.positives[i], self.negatives[i] if self.negatives else "",
                   "" if self.scores is None else repr(float(self.scores[i]))]
            h.update("\x1f".join(row).encode() + b"\x1e")
        return h.hexdigest()[:12]


def read_pairs_file(data: bytes | str, name: str = "pairs.csv", threshold: float | None = None) -> Pairs:
    """Pairs to train on from a pairs file (read by :func:`vecexplore.files.pairs.read_pairs`: a header read by
    name, bad lines refused with their line, repeated rows kept and counted): ``anchor,positive``,
    ``anchor,positive,negative`` or ``sentence1,sentence2,score`` (positives: score ≥ ``threshold``, default 4 of
    STS's 0–5). An anchor may come with several positives (retrieval and STS files repeat them): a note says what
    that changes."""
    rows = read_pairs(data, name, TRAINING)
    notes = list(rows.notes)
    scores = rows.scores
    if scores is not None:
        threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        if not (scores >= threshold).any():
            raise VecexploreError(f"No pair in {name} scores {threshold:g} or more (scores run {scores.min():g}–"
                                  f"{scores.max():g}): lower the threshold for positives.")
        notes.append(f"{int((scores >= threshold).sum()):,} of {len(scores):,} scored pairs reach {threshold:g} and "
                     "are positives; the held-out scored pairs also measure STS Spearman.")
    pairs = Pairs(rows.anchors, rows.positives, rows.negatives, scores, threshold if scores is not None else None,
                  name, tuple(notes))
    if int(pairs.is_positive.sum()) < MIN_PAIRS:
        raise VecexploreError(f"{name} has {int(pairs.is_positive.sum())} positive pairs; fine-tuning needs at least "
                              f"{MIN_PAIRS} (a few hundred to see a difference).")
    if repeated_anchors(pairs):
        pairs = replace(pairs, notes=(*pairs.notes, (
            "An anchor with several positives: all its pairs stay on the same side of the held-out split, a training "
            "batch never holds the same text twice, and a held-out anchor's recall@k is the share of its positives "
            "in its top k.")))
    return pairs


def repeated_anchors(pairs: Pairs) -> dict[str, int]:
    """The anchors with more than one distinct positive, and how many they have."""
    positives: dict[str, set[str]] = {}
    for i in np.flatnonzero(pairs.is_positive):
        positives.setdefault(pairs.anchors[i], set()).add(pairs.positives[i])
    return {anchor: len(found) for anchor, found in positives.items() if len(found) > 1}


def demo_pairs() -> Pairs:
    """The shipped demo: questions a cook asks, each with the passage that answers it."""
    data = resources.files("vecexplore.data").joinpath("demo_pairs.csv").read_bytes()
    return read_pairs_file(data, "demo pairs (cooking questions → answers)")


@dataclass(frozen=True)
class Split:
    """Training pairs and the held-out pairs (never trained on: no held-out text is in any training pair)."""

    train: Pairs
    held: Pairs
    notes: tuple[str, ...] = ()


def split_pairs(pairs: Pairs, test_share: float = 0.2, seed: int = 0) -> Split:
    """Hold out a seeded ``test_share`` of the pairs first, whole anchors at a time (every pair of an anchor on the
    same side); train on the positives of the rest, minus any pair sharing a text with a held-out pair."""
    check("test_share", test_share, "test share")
    groups: dict[str, list[int]] = {}
    for i, anchor in enumerate(pairs.anchors):
        groups.setdefault(anchor, []).append(i)
    members = list(groups.values())
    n_held = max(2, int(round(len(pairs) * test_share)))
    held_idx: list[int] = []
    for g in np.random.default_rng(seed).permutation(len(members)):  # unique anchors: the first n_held of a permutation
        if len(held_idx) >= n_held:
            break
        held_idx.extend(members[g])
    chosen = np.zeros(len(pairs), dtype=bool)
    chosen[held_idx] = True
    held = pairs.subset(np.flatnonzero(chosen))
    rest = pairs.subset(np.flatnonzero(~chosen)).positive_pairs()
    seen = held.texts()
    clean = [i for i in range(len(rest)) if not ({rest.anchors[i], rest.positives[i],
                                                  *(rest.negatives[i:i + 1] if rest.negatives else ())} & seen)]
    dropped = len(rest) - len(clean)
    notes = [] if not dropped else [
        f"{dropped:,} training pair{' shares' if dropped == 1 else 's share'} a text with a held-out pair and "
        f"{'was' if dropped == 1 else 'were'} left out of training."]
    return _checked(Split(rest.subset(clean), held, tuple(notes)))


def _checked(split: Split) -> Split:
    positive = split.held.is_positive
    if len({a for a, keep in zip(split.held.anchors, positive, strict=True) if keep}) < 2:
        raise VecexploreError("The held-out share has fewer than 2 anchors with a positive: raise the test share or "
                              "add pairs.")
    if len(split.train) < 4:
        raise VecexploreError(f"Only {len(split.train)} pairs are left to train on after holding some out: add pairs "
                              "or lower the test share.")
    return split


def label_split(texts: Sequence[str], labels: Sequence[str], test_share: float = 0.2, seed: int = 0,
                name: str = "corpus labels") -> Split:
    """Pairs from a labelled corpus: the texts are split first (per label, seeded), then each text is paired with
    another text of its label from its own side, so no held-out text is trained on."""
    check("test_share", test_share, "test share")
    if labels is None or len(set(labels)) < 2:
        raise VecexploreError("Pairs from labels need a corpus with a label column holding at least two labels.")
    rng = np.random.default_rng(seed)
    unique = dict(zip(texts, labels, strict=True))  # one label per text (the last one given)
    by_label: dict[str, list[str]] = {}
    for text, label in unique.items():
        by_label.setdefault(label, []).append(text)
    sides: dict[str, dict[str, list[str]]] = {"train": {}, "held": {}}
    for label, group in by_label.items():
        group = [group[i] for i in rng.permutation(len(group))]
        n_held = int(round(len(group) * test_share)) if len(group) >= 4 else 0
        n_held = max(2, n_held) if n_held else 0
        sides["held"][label], sides["train"][label] = group[:n_held], group[n_held:]

    def pairs_of(side: dict[str, list[str]]) -> Pairs:
        anchors, positives = [], []
        for group in side.values():
            if len(group) < 2:
                continue
            for i, text in enumerate(group):
                j = (i + 1 + rng.integers(len(group) - 1)) % len(group)  # another text of the label
                anchors.append(text)
                positives.append(group[j])
        return Pairs(tuple(anchors), tuple(positives), name=name)

    return _checked(Split(pairs_of(sides["train"]), pairs_of(sides["held"]), (LABEL_WARNING,)))


def new_name(name: str) -> str:
    """``name`` if it can name a new fine-tuned model (checked before training, so a long run never ends refused)."""
    name = finetuned.check_name(name)
    if (finetuned.root() / name).exists():
        raise VecexploreError(f"A fine-tuned model named {name!r} exists already: choose another name.")
    return name


def suggest_name(base: str, source: str, viewer: str | None = None) -> str:
    """A free name for a new model, ``<base>-<source>-<n>`` in the characters a name allows; for a session
    (``viewer``) ``<base>-<source>-<session>-<n>``, so its default names say nothing of other sessions' models."""
    stem = re.sub(r"[^a-z0-9._-]+", "-", f"{base.split('/')[-1]}-{source}".lower()).strip("-._")[:46]
    stem = stem.rstrip("-._") or "model"
    if viewer:
        stem = f"{stem}-{re.sub(r'[^a-z0-9]', '', viewer.lower())[:8]}"
    n = 1
    while (finetuned.root() / f"{stem}-{n}").exists():
        n += 1
    return f"{stem}-{n}"


def _cpu_ticks(cpus: set[int]) -> tuple[float, float]:
    """(busy, total) clock ticks of ``cpus`` since boot, from ``/proc/stat``."""
    busy = total = 0.0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            ticks = [float(v) for v in values[:8]]  # user nice system idle iowait irq softirq steal
            total += sum(ticks)
            busy += sum(ticks) - ticks[3] - ticks[4]
    return busy, total


def idle_cores(window: float = 0.3) -> int:
    """The cores this process may use that no other process is busy on now: their busy time over ``window``
    seconds minus this process's own, a core counting as busy from half its time (at least 1). OpenMP threads
    that share a core another process holds spin against it: a training step was measured 10× slower that way."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    if not Path("/proc/stat").exists():
        return len(cpus)
    (busy0, total0), own0, start = _cpu_ticks(cpus), time.process_time(), time.perf_counter()
    time.sleep(window)
    (busy1, total1), own1, end = _cpu_ticks(cpus), time.process_time(), time.perf_counter()
    busy = (busy1 - busy0) / max(total1 - total0, 1e-9) * len(cpus)
    others = max(0.0, busy - (own1 - own0) / (end - start))
    return max(1, len(cpus) - int(others + 0.5))


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _callback(progress: TrainProgress | None, should_stop: Callable[[], bool] | None):
    """A trainer callback that records the loss, reports progress and stops when asked."""
    from transformers import TrainerCallback

    class Watch(TrainerCallback):
        def __init__(self) -> None:
            self.history: list[tuple[int, float]] = []
            self.cancelled_at: tuple[int, int] | None = None

        def on_train_begin(self, args, state, control, **kwargs):
            if progress:
                progress(0, state.max_steps, None)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.history.append((state.global_step, float(logs["loss"])))
                if progress:
                    progress(state.global_step, state.max_steps, float(logs["loss"]))

        def on_step_end(self, args, state, control, **kwargs):
            if should_stop is not None and should_stop():
                self.cancelled_at = (state.global_step, state.max_steps)
                control.should_training_stop = True

    return Watch()


class FineTuner:
    """Fine-tune a sentence-transformers model on pairs with ``MultipleNegativesRankingLoss``.

    ``base``: the model to start from (the bundled MiniLM, a fine-tuned model, a folder); ``hard_negatives``: mine
    one hard negative per pair with the base model (``mine_hard_negatives``, 5% relative margin) when the pairs
    bring none; ``matryoshka``: wrap the loss in ``MatryoshkaLoss`` (dims, dims/2, dims/4, dims/8); ``threads``:
    torch's CPU threads while training (default: the idle cores). Learned: ``model_``, ``history_`` (step, loss),
    ``steps_``, ``seconds_``, ``n_train_``, ``data_hash_``, ``base_id_``, ``base_version_``, ``threads_``,
    ``notes_``; :meth:`save` sets ``saved_path_``."""

    def __init__(self, base: str = MINILM_ID, epochs: int = 1, batch_size: int = 32, learning_rate: float = 5e-5,
                 hard_negatives: bool = False, matryoshka: bool = False, seed: int = 0, warmup: float = 0.1,
                 threads: int | None = None) -> None:
        self.base = base
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.hard_negatives = hard_negatives
        self.matryoshka = matryoshka
        self.seed = seed
        self.warmup = warmup
        self.threads = threads

    @property
    def settings(self) -> dict:
        return {"epochs": self.epochs, "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "hard_negatives": self.hard_negatives, "matryoshka": self.matryoshka, "seed": self.seed,
                "warmup": self.warmup}

    def _check(self) -> None:
        check("epochs", self.epochs)
        check("batch_size", self.batch_size, "batch size")
        check("learning_rate", self.learning_rate, "learning rate")
        check("seed", self.seed)
        if self.threads is not None:
            check("threads", self.threads)
        if not 0 <= self.warmup < 1:
            raise VecexploreError(f"warmup is a share of the steps, from 0 to below 1; got {self.warmup:g}.")

    def fit(self, pairs: Pairs, progress: TrainProgress | None = None,
            should_stop: Callable[[], bool] | None = None) -> FineTuner:
        """Train on the positive pairs of ``pairs``; ``progress(step, steps, loss)`` after each step,
        ``should_stop()`` checked after each step (then :class:`Cancelled` is raised and nothing is kept)."""
        from datasets import Dataset, disable_progress_bars
        from sentence_transformers import (
            SentenceTransformer,
            SentenceTransformerTrainer,
            SentenceTransformerTrainingArguments,
        )
        from sentence_transformers.base.sampler import BatchSamplers
        from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss
        from transformers import PrinterCallback, ProgressCallback

        self._check()
        train = pairs.positive_pairs()
        if len(train) < 4:
            raise VecexploreError(f"Only {len(train)} positive pairs to train on; fine-tuning needs at least 4.")
        disable_progress_bars()
        start = time.perf_counter()
        folder, base_id, self.base_version_ = trainable_folder(self.base)
        try:
            model = SentenceTransformer(str(folder), device="cpu", local_files_only=True, trust_remote_code=False)
        except (OSError, ValueError) as exc:
            raise VecexploreError(f"Cannot load {base_id} for training: {exc}") from exc
        self.notes_: list[str] = []
        self.threads_ = self.threads or idle_cores()
        self.notes_.append(f"Reproducible for the same seed ({self.seed}) and the same thread count ({self.threads_} "
                           "CPU thread(s) here): torch splits its sums by thread, so another thread count gives "
                           "slightly different weights and numbers.")
        columns = {"anchor": list(train.anchors), "positive": list(train.positives)}
        if train.negatives is not None:
            columns["negative"] = list(train.negatives)
        dataset = Dataset.from_dict(columns)
        watch = _callback(progress, should_stop)
        with _torch_threads(self.threads_), tempfile.TemporaryDirectory(prefix="vecexplore-train-") as out:
            if self.hard_negatives:
                dataset = self._mine(dataset, model, train)
            loss = MultipleNegativesRankingLoss(model)
            if self.matryoshka:
                dims = model.get_embedding_dimension()
                loss = MatryoshkaLoss(model, loss, [d for d in (dims, dims // 2, dims // 4, dims // 8) if d >= 8])
            args = SentenceTransformerTrainingArguments(
                output_dir=out, num_train_epochs=self.epochs, per_device_train_batch_size=self.batch_size,
                learning_rate=self.learning_rate, warmup_steps=self.warmup, seed=self.seed, data_seed=self.seed,
                batch_sampler=BatchSamplers.NO_DUPLICATES, report_to="none", save_strategy="no", logging_steps=1,
                use_cpu=True, disable_tqdm=True, dataloader_num_workers=0)
            trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss,
                                                 callbacks=[watch])
            for quiet in (PrinterCallback, ProgressCallback):  # they print to stdout, where the CLI writes JSON
                trainer.remove_callback(quiet)
            trainer.train()
        if watch.cancelled_at is not None:
            step, steps = watch.cancelled_at
            raise Cancelled(f"Fine-tuning cancelled after {step} of {steps} steps: nothing was saved.")
        self.model_ = model.eval()
        self.history_ = watch.history
        self.steps_ = trainer.state.global_step
        self.n_train_ = len(dataset)
        self.data_hash_ = train.digest()
        self.base_id_ = base_id
        self.seconds_ = time.perf_counter() - start
        return self

    def _mine(self, dataset, model, train: Pairs):
        """One hard negative per pair, mined among the training positives with the base model."""
        from sentence_transformers.util import mine_hard_negatives

        if train.negatives is not None:
            self.notes_.append("The pairs bring their own negatives: no hard negatives were mined.")
            return dataset
        mined = mine_hard_negatives(dataset, model, anchor_column_name="anchor", positive_column_name="positive",
                                    num_negatives=1, relative_margin=0.05, sampling_strategy="top",
                                    output_format="triplet", batch_size=64, use_faiss=False, verbose=False)
        if len(mined) < len(dataset):
            self.notes_.append(f"Hard negatives: {len(dataset) - len(mined):,} of {len(dataset):,} pairs had no "
                               "candidate at least 5% less similar than their positive and were left out.")
        if len(mined) < 4:
            raise VecexploreError("Hard-negative mining left fewer than 4 pairs: train without hard negatives.")
        return mined

    def _fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise VecexploreError("Fit the fine-tuner before using it.")

    def summary(self) -> dict:
        """What the training did: time, steps, pairs, threads, the loss per step, settings and notes."""
        self._fitted()
        return {"seconds": round(self.seconds_, 2), "steps": self.steps_, "n_train": self.n_train_,
                "threads": self.threads_, "final_loss": self.history_[-1][1] if self.history_ else None,
                "loss": [{"step": step, "loss": loss} for step, loss in self.history_], "settings": self.settings,
                "notes": self.notes_}

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """The trained model's vectors (torch, as right after training)."""
        self._fitted()
        return np.asarray(self.model_.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                             show_progress_bar=False), dtype=np.float32)

    def save(self, name: str, source: str = "pairs", owner: str = CLI_OWNER, shared: bool = True) -> dict:
        """Save the trained model as ``finetuned/<name>`` (trained into a hidden folder, then renamed: a crash or
        a cancel leaves nothing listed), made by ``owner`` and ``shared`` with every session or private to it;
        returns its manifest."""
        self._fitted()
        name = new_name(name)
        root = finetuned.root()
        target = root / name
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
        try:
            try:
                self.model_.save(str(work), create_model_card=False)
            except OSError as exc:
                raise VecexploreError(f"Cannot save the model under {root}: {exc.strerror or exc}.") from exc
            weights = folder_digest(work)
            spec = ",".join(f"{k}={v}" for k, v in self.settings.items())
            manifest = {
                "id": finetuned.model_id(name), "name": name, "base": self.base_id_,
                "base_version": self.base_version_, "data_hash": self.data_hash_, "data_source": source,
                "n_train": self.n_train_, "settings": self.settings,
                "version": f"finetuned({self.base_id_}@{self.base_version_};data={self.data_hash_};{spec})+{weights}",
                "weights": weights, "dims": int(self.model_.get_embedding_dimension()), "steps": self.steps_,
                "seconds": round(self.seconds_, 2), "final_loss": self.history_[-1][1] if self.history_ else None,
                "created": datetime.now(UTC).isoformat(timespec="seconds"), "owner": owner, "shared": shared,
                "libraries": {p: metadata.version(p) for p in ("sentence-transformers", "transformers", "torch")},
                "description": (f"Fine-tuned from {self.base_id_} on {self.n_train_:,} pairs of {source} "
                                f"({self.epochs} epoch(s), batch {self.batch_size}, lr {self.learning_rate:g}"
                                f"{', hard negatives' if self.hard_negatives else ''}"
                                f"{', Matryoshka' if self.matryoshka else ''})."),
            }
            (work / finetuned.MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            try:
                os.rename(work, target)
            except OSError as exc:
                raise VecexploreError(f"Cannot save the model as {target}: {exc.strerror or exc}.") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.saved_path_ = target
        return manifest


# --- held-out evaluation: the statistics the before/after report is made of ---


def held_out_ranks(anchor_vectors: np.ndarray, candidate_vectors: np.ndarray,
                   relevant: Sequence[int | Sequence[int]], exclude: Sequence[int] | None = None) -> list[np.ndarray]:
    """Per anchor, the ranks (1 = first, ascending) of its positives ``relevant[i]`` (one candidate index or
    several) among every candidate by cosine, counting candidates that score as high as a positive ahead of it
    (its other positives included); ``exclude[i]`` (≥ 0) is a candidate never counted for anchor ``i`` (the anchor's
    own text, when it is also a candidate)."""
    from vecexplore.numeric import l2_normalize

    scores = l2_normalize(anchor_vectors).astype(np.float64) @ l2_normalize(candidate_vectors).astype(np.float64).T
    rows = np.arange(len(scores))
    if exclude is not None:
        own = np.asarray(exclude, dtype=int)
        scores[rows[own >= 0], own[own >= 0]] = -np.inf
    ranks = []
    for row, positives in zip(scores, relevant, strict=True):
        target = row[np.atleast_1d(np.asarray(positives, dtype=int))]
        ranks.append(np.sort((row[None, :] >= target[:, None]).sum(axis=1)))
    return ranks


def retrieval_per_query(ranks: Sequence[np.ndarray | int]) -> dict[str, np.ndarray]:
    """Each anchor's recall@1 and recall@10 (the share of its positives within the top k) and reciprocal rank
    (1 / the rank of its first positive); ``ranks[i]``: the ranks of anchor ``i``'s positives, or its one rank."""
    per = [np.atleast_1d(np.asarray(r, dtype=float)) for r in ranks]
    out = {f"recall@{k}": np.array([np.mean(r <= k) for r in per]) for k in (1, 10)}
    return {**out, "MRR": np.array([1.0 / r.min() for r in per])}


def bootstrap_change(before: np.ndarray, after: np.ndarray, scores: np.ndarray | None = None, n_boot: int = 1000,
                     confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """The change ``after − before`` and its percentile bootstrap interval, resampling items (anchors or scored
    pairs) with both models paired. Without ``scores`` the statistic is the mean; with them, Spearman's rho of each
    model's cosines against the scores."""
    from scipy.stats import bootstrap, spearmanr

    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    rng = np.random.default_rng(seed)
    if scores is None:
        change = float(after.mean() - before.mean())
        if np.all(after - before == (after - before)[0]):
            return change, change, change  # no spread to resample
        ci = bootstrap((after - before,), np.mean, n_resamples=n_boot, confidence_level=confidence,
                       method="percentile", rng=rng).confidence_interval
    else:
        def statistic(b: np.ndarray, a: np.ndarray, s: np.ndarray) -> float:
            return float(spearmanr(a, s).statistic - spearmanr(b, s).statistic)

        change = statistic(before, after, np.asarray(scores, dtype=float))
        ci = bootstrap((before, after, np.asarray(scores, dtype=float)), statistic, paired=True, vectorized=False,
                       n_resamples=n_boot, confidence_level=confidence, method="percentile",
                       rng=rng).confidence_interval
    return change, float(ci.low), float(ci.high)
