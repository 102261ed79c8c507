import io
import json

import numpy as np
import pandas as pd
import pytest

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.files import corpus as corpora
from vecexplore.files.export import to_tf_projector


def test_paste_drops_blank_lines():
    c = corpora.from_lines("one\n\n   \ntwo\nthree\n")
    assert c.texts == ["one", "two", "three"] and c.labels is None
    assert any("Dropped 2 blank" in n for n in c.notes)


def test_empty_paste_is_an_error():
    with pytest.raises(VecexploreError, match="no texts"):
        corpora.from_lines("\n  \n")


def test_duplicates_are_reported_and_can_be_dropped():
    c = corpora.from_lines("a\nb\na\na")
    assert c.duplicate_count() == 2 and any("2 texts are exact duplicates" in n for n in c.notes)
    d = c.drop_duplicates()
    assert d.texts == ["a", "b"] and any("Dropped 2 duplicate" in n for n in d.notes)


def test_long_text_is_noted():
    c = corpora.from_lines("x" * 50_000 + "\nshort")
    assert any("longer than 10,000 characters" in n for n in c.notes)
    assert len(c.texts[0]) == 50_000  # kept whole; the model reports its own truncation


@pytest.mark.parametrize("name,data", [
    ("c.csv", b"text,label\nhello,a\n,b\nworld,\n"),
    ("c.tsv", b"text\tlabel\nhello\ta\n\tb\nworld\t\n"),
    ("c.jsonl", b'{"text": "hello", "label": "a"}\n{"text": null, "label": "b"}\n{"text": "world"}\n'),
])
def test_tables(name, data):
    frame = corpora.read_table(name, data)
    c = corpora.from_table(frame, "text", "label", name=name)
    assert c.texts == ["hello", "world"] and c.labels == ["a", "(none)"]
    assert any("Dropped 1 blank" in n for n in c.notes)


def test_parquet_and_txt():
    buf = io.BytesIO()
    pd.DataFrame({"body": ["x y", "z"], "n": [1, 2]}).to_parquet(buf)
    frame = corpora.read_table("c.parquet", buf.getvalue())
    assert corpora.guess_text_column(frame) == "body"
    c = corpora.from_table(frame, "body", "n")
    assert c.labels == ["1", "2"]
    assert corpora.read_table("c.txt", b"first\nsecond").text.tolist() == ["first", "second"]


def test_bad_files(hostile):
    with pytest.raises(VecexploreError, match="not UTF-8.*0xe9") as raised:
        corpora.read_table("latin1.csv", "text\ncaf\xe9\n".encode("latin-1"))
    hostile('core: corpus readers', 'corpora.read_table("latin1.csv", "text\\ncaf\\xe9\\n".encode("latin-1"))',
            str(raised.value))
    with pytest.raises(VecexploreError, match="no column 'text'.*sentence") as raised:
        corpora.from_table(pd.DataFrame({"sentence": ["a"]}), "text")
    hostile('core: corpus readers', 'corpora.from_table(pd.DataFrame({"sentence": ["a"]}), "text")', str(raised.value))
    with pytest.raises(VecexploreError, match="Cannot read broken.parquet") as raised:
        corpora.read_table("broken.parquet", b"PAR1 this is not parquet")
    hostile('core: corpus readers', 'corpora.read_table("broken.parquet", b"PAR1 this is not parquet")',
            str(raised.value))
    with pytest.raises(VecexploreError, match="unsupported file type .docx") as raised:
        corpora.read_table("x.docx", b"abc")
    hostile('core: corpus readers', 'corpora.read_table("x.docx", b"abc")', str(raised.value))
    with pytest.raises(VecexploreError, match="empty") as raised:
        corpora.read_table("x.csv", b"")
    hostile('core: corpus readers', 'corpora.read_table("x.csv", b"")', str(raised.value))
    with pytest.raises(VecexploreError, match="Cannot read"):
        corpora.read_table("x.jsonl", b"{not json}\n")


def test_tf_projector_roundtrip():
    eset = EmbeddingSet(["a text", "another\ttext"], np.array([[0.5, -1.25], [3, 4e-3]]), "m", "v", ["x", "y"])
    vectors_tsv, metadata_tsv = to_tf_projector(eset)
    c = corpora.read_tf_projector(vectors_tsv.encode(), metadata_tsv.encode(), label_col="label")
    assert c.texts == ["a text", "another text"] and c.labels == ["x", "y"]
    np.testing.assert_allclose(c.vectors, eset.vectors, rtol=1e-6)
    single = corpora.read_tf_projector(b"1\t2\n3\t4\n", b"first\nsecond\n")
    assert single.texts == ["first", "second"]
    assert corpora.read_tf_projector(b"1\t2\n3\t4\n").texts == ["point 0", "point 1"]


def test_tf_projector_bad_input():
    with pytest.raises(VecexploreError, match="NaN or infinite values in 1 rows"):
        corpora.read_tf_projector(b"1\t2\nnan\t4\n")
    with pytest.raises(VecexploreError, match="has 1 rows but vectors.tsv has 2"):
        corpora.read_tf_projector(b"1\t2\n3\t4\n", b"only one\n")
    with pytest.raises(VecexploreError, match="only tab-separated numbers"):
        corpora.read_tf_projector(b"1\tx\n")


def test_sample_is_seeded_and_ordered():
    c = corpora.Corpus([str(i) for i in range(100)], [str(i % 3) for i in range(100)])
    a, b = c.sample(10), c.sample(10)
    assert a.texts == b.texts and [int(t) for t in a.texts] == sorted(int(t) for t in a.texts)
    assert a.labels == [str(int(t) % 3) for t in a.texts] and "Sampled 10 of 100" in a.notes[-1]


def test_demo_corpora():
    topics = corpora.load_demo("topics")
    assert len(topics) == 300 and sorted(set(topics.labels)) == ["cooking", "finance", "health", "space", "sport"]
    assert len(corpora.load_demo("senses")) == 60
    words = corpora.load_demo("words")
    assert len(words) > 400 and words.labels is None and all(w.isalpha() for w in words.texts)
    with pytest.raises(VecexploreError, match="Unknown demo"):
        corpora.load_demo("nope")


def test_load_file(tmp_path):
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps({"t": f"text {i}"}) for i in range(3)))
    assert corpora.load_file(tmp_path / "c.jsonl").texts == ["text 0", "text 1", "text 2"]
    with pytest.raises(VecexploreError, match="Cannot read"):
        corpora.load_file(tmp_path / "missing.csv")


def test_recombined_corpus_is_distinct_and_labelled(topics):
    big = topics.recombined(2_000, parts=3, seed=1)
    assert len(big) == 2_000 and len(set(big.texts)) == 2_000 and big.notes
    by_text = dict(zip(topics.texts, topics.labels, strict=True))
    for text, label in zip(big.texts[:50], big.labels[:50], strict=True):
        parts = [t for t in topics.texts if t in text]
        assert len(parts) >= 3 and {by_text[p] for p in parts} >= {label}
    assert big.texts == topics.recombined(2_000, parts=3, seed=1).texts  # seeded
    with pytest.raises(VecexploreError, match="distinct combinations"):
        topics.recombined(10**9)


def test_a_table_without_words_asks_for_the_column(tmp_path, hostile):
    numbers = pd.DataFrame({"id": [1, 2, 3], "score": [0.5, 0.25, 0.75]})
    assert corpora.guess_text_column(numbers) is None
    as_csv = corpora.read_table("n.csv", b"id,score,when\n1,0.5,2024-01-01\n2,0.25,2024-02-01\n")
    assert corpora.guess_text_column(as_csv) is None  # every column read as strings, none of them words
    mixed = corpora.read_table("m.csv", b"code,note\nA-1,the cat sat\nB-2,a dog slept\n")
    assert corpora.guess_text_column(mixed) == "note" and corpora.holds_words(mixed["note"])
    chosen = corpora.from_table(as_csv, "score", name="n.csv")
    assert chosen.texts == ["0.5", "0.25"] and "holds no words" in chosen.notes[0]
    path = tmp_path / "n.parquet"
    numbers.to_parquet(path)
    with pytest.raises(VecexploreError, match="--text-col") as refused:
        corpora.load_file(path)
    hostile("CLI: any command reading a corpus", "a Parquet file with only numeric columns", str(refused.value))
    assert corpora.load_file(path, text_col="score").notes[0].startswith("Column 'score' holds no words")


def test_jsonl_errors_name_the_file_line(hostile):
    data = b'{"text": "one"}\n\n{"text": "two"}\n{"text": oops}\n'
    with pytest.raises(VecexploreError, match="line 4 is not valid JSON") as refused:
        corpora.read_table("x.jsonl", data)
    hostile("corpus reader (sidebar upload, CLI)", "a .jsonl whose 4th line (3rd object) is broken", str(refused.value))
    with pytest.raises(VecexploreError, match="line 2 is not a JSON object"):
        corpora.read_table("x.jsonl", b'{"text": "one"}\n["a list"]\n')
