import numpy as np
import pytest

from vecexplore.cache import EmbeddingCache, cache_key, corpus_key, embed


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


def _corpus(n: int = 300) -> list[str]:
    return [f"text {i} {'a' * (i % 7)}" for i in range(n)] + ["text 0 ", "text 5 aaaaa"]  # two repeated texts


def test_block_hit_equals_the_miss_and_the_per_text_path(tmp_path):
    texts = _corpus()
    enc = CountingEncoder()
    first, stats1 = embed(texts, enc, cache=EmbeddingCache(tmp_path / "c", block_min=100))
    assert not stats1.block and (stats1.cache_hits, stats1.encoded) == (0, 300) and len(enc.seen) == 300
    (block,) = (tmp_path / "c-blocks").glob("*.npy")
    enc.seen.clear()
    again, stats2 = embed(texts, enc, labels=["x"] * len(texts), cache=EmbeddingCache(tmp_path / "c", block_min=100))
    assert stats2.block and enc.seen == [] and (stats2.cache_hits, stats2.encoded) == (302, 0)
    per_text, _ = embed(texts, CountingEncoder(), cache=EmbeddingCache(tmp_path / "p"))  # below block_min
    uncached, _ = embed(texts, CountingEncoder())
    for other in (again, per_text, uncached):
        np.testing.assert_array_equal(first.vectors, other.vectors)
    assert again.vectors.dtype == np.float32 and again.labels == ["x"] * len(texts)
    assert again.model_id == "toy" and again.model_version == "1"
    np.testing.assert_array_equal(np.load(block), first.vectors)
    assert len(EmbeddingCache(tmp_path / "c")) == 0  # a whole corpus is kept as its block only


def test_changed_corpus_or_version_misses_the_block(tmp_path):
    texts = _corpus()
    cache = EmbeddingCache(tmp_path / "c", block_min=100)
    embed(texts, CountingEncoder(), cache=cache)
    for changed, version in ((texts[:-1], "1"), ([*texts[:-1], "new"], "1"), (texts[::-1], "1"), (texts, "2")):
        enc = CountingEncoder(version)
        eset, stats = embed(changed, enc, cache=cache)
        assert not stats.block and enc.seen
        np.testing.assert_array_equal(eset.vectors, embed(changed, CountingEncoder(version))[0].vectors)
    assert corpus_key("toy", "1", ["a\x1eb"]) != corpus_key("toy", "1", ["a", "b"])
    assert corpus_key("toy", "1", texts) != corpus_key("toy", "2", texts)


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "empty"])
def test_damaged_block_is_rebuilt(tmp_path, damage):
    texts = _corpus()
    cache = EmbeddingCache(tmp_path / "c", block_min=100)
    first, _ = embed(texts, CountingEncoder(), cache=cache)
    (block,) = cache.blocks.glob("*.npy")
    data = bytearray(block.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "flip":
        data[-5] ^= 0xFF
    elif damage == "header":
        data[:20] = b"not a numpy file...."
    else:
        data = b""
    block.write_bytes(bytes(data))
    enc = CountingEncoder()
    again, stats = embed(texts, enc, cache=cache)
    assert not stats.block and len(enc.seen) == 300  # detected: encoded again
    np.testing.assert_array_equal(first.vectors, again.vectors)
    assert embed(texts, CountingEncoder(), cache=cache)[1].block  # and the block rebuilt


def test_interrupted_whole_corpus_keeps_finished_chunks(tmp_path):
    texts = [f"text {i}" for i in range(1000)]
    cache = EmbeddingCache(tmp_path / "c", block_min=100)

    def cancel(done: int, total: int) -> None:
        if done > 500:
            raise KeyboardInterrupt("cancel")

    with pytest.raises(KeyboardInterrupt):
        embed(texts, CountingEncoder(), cache=cache, chunk_size=250, progress=cancel)
    assert len(cache) == 500 and not list(cache.blocks.glob("*.npy"))
    enc = CountingEncoder()
    eset, stats = embed(texts, enc, cache=cache, chunk_size=250)
    assert (stats.cache_hits, stats.encoded) == (500, 500) and enc.seen == texts[500:] and not stats.block
    np.testing.assert_array_equal(eset.vectors, embed(texts, CountingEncoder())[0].vectors)
    assert embed(texts, CountingEncoder(), cache=cache)[1].block


def test_blocks_are_bounded(tmp_path):
    cache = EmbeddingCache(tmp_path / "c", block_min=100, block_bytes=2 * (300 * 4 * 4 + 128))  # two .npy
    corpora = [[f"{c} {i}" for i in range(300)] for c in "abc"]
    for texts in corpora:
        embed(texts, CountingEncoder(), cache=cache)
    assert len(list(cache.blocks.glob("*.npy"))) == 2
    assert not embed(corpora[0], CountingEncoder(), cache=cache)[1].block  # the oldest was dropped
    assert embed(corpora[2], CountingEncoder(), cache=cache)[1].block
