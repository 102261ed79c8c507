import numpy as np
import pytest

from vecexplore.cache import EmbeddingCache, cache_key, embed


class CountingEncoder:
    """A deterministic toy encoder that records every text it is asked to encode."""

    id = "toy"
    dims = 4

    def __init__(self, version: str = "1"):
        self.version = version
        self.seen: list[str] = []

    def encode(self, texts, batch_size=64, progress=None):
        self.seen.extend(texts)
        out = np.array([[len(t), t.count("a"), hash(t) % 97, 1.0] for t in texts], dtype=np.float32)
        if progress:
            progress(len(texts), len(texts))
        return out

    def diagnose(self, texts):
        return {}


def test_cache_hit_is_identical_and_skips_the_model(tmp_path):
    texts = ["alpha", "beta", "gamma", "alpha"]
    enc = CountingEncoder()
    first, stats1 = embed(texts, enc, cache=EmbeddingCache(tmp_path / "c.sqlite"))
    assert enc.seen == ["alpha", "beta", "gamma"]  # the duplicate is encoded once
    assert (stats1.cache_hits, stats1.encoded) == (0, 3)
    enc.seen.clear()
    # a new cache object on the same file: as after a restart
    second, stats2 = embed(texts, enc, cache=EmbeddingCache(tmp_path / "c.sqlite"))
    assert enc.seen == []
    assert (stats2.cache_hits, stats2.encoded) == (4, 0)
    np.testing.assert_array_equal(first.vectors, second.vectors)
    assert second.vectors.dtype == np.float32
    assert second.model_id == "toy" and second.model_version == "1"


def test_new_version_or_new_text_misses(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    embed(["alpha", "beta"], CountingEncoder("1"), cache=cache)
    enc2 = CountingEncoder("2")
    embed(["alpha", "beta"], enc2, cache=cache)
    assert enc2.seen == ["alpha", "beta"]
    enc1 = CountingEncoder("1")
    _, stats = embed(["alpha", "delta"], enc1, cache=cache)
    assert enc1.seen == ["delta"] and stats.cache_hits == 1
    assert len(cache) == 5
    assert cache_key("toy", "1", "alpha") != cache_key("toy", "2", "alpha")


def test_progress_and_labels(tmp_path):
    calls = []
    eset, _ = embed(["a", "b"], CountingEncoder(), labels=["x", "y"], cache=EmbeddingCache(tmp_path / "c"),
                    progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (2, 2) and eset.labels == ["x", "y"]
    calls.clear()
    embed(["a", "b"], CountingEncoder(), cache=EmbeddingCache(tmp_path / "c"),
          progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 2)]  # all hits still completes the bar


def test_many_texts_in_chunks(tmp_path):
    texts = [f"text number {i}" for i in range(2500)]  # more than one SQL chunk
    cache = EmbeddingCache(tmp_path / "c")
    first, _ = embed(texts, CountingEncoder(), cache=cache)
    enc = CountingEncoder()
    again, stats = embed(texts, enc, cache=cache)
    assert stats.cache_hits == 2500 and not enc.seen
    np.testing.assert_array_equal(first.vectors, again.vectors)


def test_interrupted_run_keeps_finished_chunks(tmp_path):
    """A cancel (Streamlit stops the script inside the progress callback) keeps the chunks already finished;
    the chunk being encoded when it came is lost."""
    texts = [f"text {i}" for i in range(1000)]
    cache = EmbeddingCache(tmp_path / "c")
    calls = []

    def cancel_in_third_chunk(done: int, total: int) -> None:
        calls.append((done, total))
        if done > 500:
            raise KeyboardInterrupt("cancel")

    with pytest.raises(KeyboardInterrupt):
        embed(texts, CountingEncoder(), cache=cache, chunk_size=250, progress=cancel_in_third_chunk)
    assert calls == [(250, 1000), (500, 1000), (750, 1000)] and len(cache) == 500
    enc = CountingEncoder()
    eset, stats = embed(texts, enc, cache=cache, chunk_size=250)
    assert (stats.cache_hits, stats.encoded) == (500, 500) and enc.seen == texts[500:]
    np.testing.assert_array_equal(eset.vectors, embed(texts, CountingEncoder(), chunk_size=1000)[0].vectors)


def test_home_setting_moves_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VECEXPLORE_HOME", str(tmp_path / "elsewhere"))
    assert EmbeddingCache().path == tmp_path / "elsewhere" / "embeddings.sqlite"


def test_real_model_cache_hit(minilm, tmp_path):
    cache = EmbeddingCache(tmp_path / "c")
    texts = ["a sentence about cats", "another about the stock market"]
    first, _ = embed(texts, minilm, cache=cache)
    second, stats = embed(texts, minilm, cache=cache)
    assert stats.cache_hits == 2
    np.testing.assert_array_equal(first.vectors, second.vectors)
