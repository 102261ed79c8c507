"""The notebook API: the README's example runs as written, and each call answers what the workflows answer."""

import re

import pytest

import vecexplore as vx
from conftest import ROOT
from vecexplore.errors import VecexploreError


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## In a notebook", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(readme_example(), "README.md (In a notebook)", "exec"), scope)  # noqa: S102
    assert capsys.readouterr().out.startswith("Best overall: ")
    figure, space, card = scope["figure"], scope["space"], scope["card"]
    assert space.n == 300 and space.model_id == "glove-6B-50d"
    assert sum(len(t.x) for t in figure.data if t.x is not None) >= 300
    assert card.to_markdown().startswith("# Which model for these texts?")


def test_load_guesses_the_text_column_and_refuses_a_frame_without_words():
    import pandas as pd

    corpus = vx.load(pd.DataFrame({"id": [1, 2, 3], "body": ["a cat sat", "a dog ran", "rates rose"]}))
    assert corpus.texts == ["a cat sat", "a dog ran", "rates rose"]
    with pytest.raises(VecexploreError, match="name the text column"):
        vx.load(pd.DataFrame({"n": [1, 2, 3]}))


def test_load_opens_vector_files_as_they_are(tmp_path):
    """A Parquet with a vector column, a .npy with its metadata CSV and a datasets folder open with their vectors
    untouched (the same arrays), texts and labels; the set is the imported one and maps like any other."""
    import datasets
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 16)).astype(np.float32)
    frame = pd.DataFrame({"text": [f"note {i} on {['rates', 'rain'][i % 2]}" for i in range(40)],
                          "label": [["money", "weather"][i % 2] for i in range(40)]})
    frame.assign(emb=list(vectors)).to_parquet(tmp_path / "mine.parquet")
    np.save(tmp_path / "emb.npy", vectors)
    frame.to_csv(tmp_path / "emb.csv", index=False)
    datasets.Dataset.from_pandas(frame.assign(emb=list(vectors))).save_to_disk(str(tmp_path / "ds"))
    for path in ("mine.parquet", "emb.npy", "ds"):
        corpus = vx.load(tmp_path / path, label="label")
        assert np.array_equal(corpus.vectors, vectors), path
        assert corpus.texts == frame["text"].tolist() and corpus.labels == frame["label"].tolist(), path
        space = vx.embedding(corpus)
        assert space.model_id == f"imported:{path}" and space.dims == 16
    figure = vx.map(space, method="pca", k=5)
    assert sum(len(t.x) for t in figure.data if t.x is not None) >= 40
    assert vx.load(tmp_path / "emb.npy", metadata=tmp_path / "emb.csv").texts == frame["text"].tolist()
    assert vx.load(tmp_path / "mine.parquet", vectors="emb", metric="dot").vector_info["metric"] == "dot"
    assert vx.load(tmp_path / "emb.csv").vectors is None  # a table of texts stays texts
    with pytest.raises(VecexploreError, match="does not exist"):
        vx.load(tmp_path / "missing.npy")
