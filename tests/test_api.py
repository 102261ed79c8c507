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
