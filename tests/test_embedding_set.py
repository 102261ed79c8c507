import numpy as np
import pytest

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.numeric import l2_normalize


def test_roundtrip_parquet_keeps_the_model_tag(tmp_path):
    eset = EmbeddingSet(["a", "b"], np.array([[1, 0], [0, 2]]), "m", "v1", ["x", "y"])
    eset.to_parquet(tmp_path / "e.parquet")
    back = EmbeddingSet.from_parquet(tmp_path / "e.parquet")
    assert (back.model_id, back.model_version, back.labels, back.texts) == ("m", "v1", ["x", "y"], ["a", "b"])
    np.testing.assert_array_equal(back.vectors, eset.vectors)
    assert back.vectors.dtype == np.float32


def test_checks_at_the_boundary(hostile):
    with pytest.raises(VecexploreError, match="2 texts but 3 vectors") as raised:
        EmbeddingSet(["a", "b"], np.zeros((3, 2)), "m", "v")
    hostile('core: EmbeddingSet', 'EmbeddingSet(["a", "b"], np.zeros((3, 2)), "m", "v")', str(raised.value))
    with pytest.raises(VecexploreError, match="NaN") as raised:
        EmbeddingSet(["a"], np.array([[np.nan, 1.0]]), "m", "v")
    hostile('core: EmbeddingSet', 'EmbeddingSet(["a"], np.array([[np.nan, 1.0]]), "m", "v")', str(raised.value))
    with pytest.raises(VecexploreError, match="labels"):
        EmbeddingSet(["a"], np.zeros((1, 2)), "m", "v", ["x", "y"])


def test_subset_and_normalize():
    eset = EmbeddingSet(["a", "b", "c"], np.array([[3, 4], [0, 0], [1, 0]]), "m", "v", ["x", "y", "z"])
    sub = eset.subset([2, 0])
    assert sub.texts == ["c", "a"] and sub.labels == ["z", "x"]
    np.testing.assert_allclose(l2_normalize(eset.vectors), [[0.6, 0.8], [0, 0], [1, 0]])


def test_not_a_vecexplore_file(tmp_path, hostile):
    import pandas as pd

    pd.DataFrame({"text": ["a"]}).to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(VecexploreError, match="not written by vecexplore") as raised:
        EmbeddingSet.from_parquet(tmp_path / "plain.parquet")
    hostile('core: EmbeddingSet', 'EmbeddingSet.from_parquet(tmp_path / "plain.parquet")', str(raised.value))


def test_the_tag_travels_and_spaces_are_kept_apart():
    from vecexplore.embedding_set import same_space
    from vecexplore.transforms.isotropy import Whitening

    rng = np.random.default_rng(0)
    a = EmbeddingSet([f"t{i}" for i in range(30)], rng.normal(size=(30, 8)), "m", "v1", info={"backend": "x"})
    with pytest.raises(TypeError):
        a.info["backend"] = "y"  # read-only: with_info makes a copy instead
    assert a.with_info(backend="y").info["backend"] == "y" and a.info["backend"] == "x"
    white = Whitening(k=4).fit(a)
    b = white.transform(a)
    assert b.transform == white.spec and b.dims == 4 and b.model_id == "m" and a.transform == "none"
    with pytest.raises(VecexploreError, match="same model, version and transform"):
        same_space(a, b)
    other = EmbeddingSet(a.texts, a.vectors, "m", "v2")
    with pytest.raises(VecexploreError, match="fitted on vectors of m \\(v1\\)"):
        white.transform(other)
    np.testing.assert_allclose(white.transform(a.vectors), b.vectors)  # arrays still work, untagged


def test_the_fingerprint_tells_content_and_space_apart():
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    base = EmbeddingSet(["a", "b", "c"], vectors, "m", "v1", ["x", "y", "x"])
    same = EmbeddingSet(["a", "b", "c"], vectors.copy(), "m", "v1", ["x", "y", "x"])
    assert base.fingerprint == same.fingerprint and base.fingerprint is base.fingerprint  # computed once
    changed_vector = vectors.copy()
    changed_vector[2, 3] += 1e-3
    others = [EmbeddingSet(["a", "b", "c"], changed_vector, "m", "v1", ["x", "y", "x"]),
              EmbeddingSet(["a", "b", "d"], vectors, "m", "v1", ["x", "y", "x"]),
              EmbeddingSet(["a", "b", "c"], vectors, "m", "v1", ["x", "y", "y"]),
              EmbeddingSet(["a", "b", "c"], vectors, "m", "v1"),
              EmbeddingSet(["a", "b", "c"], vectors, "m", "v2", ["x", "y", "x"]),
              EmbeddingSet(["a", "b", "c"], vectors, "n", "v1", ["x", "y", "x"]),
              base.with_vectors(vectors, "center"),
              EmbeddingSet(["a", "b c"], vectors[:2], "m", "v1"), EmbeddingSet(["a b", "c"], vectors[:2], "m", "v1")]
    prints = [base.fingerprint, *(o.fingerprint for o in others)]
    assert len(set(prints)) == len(prints)
    assert base.with_info(backend="onnx").fingerprint == base.fingerprint  # info is not content
