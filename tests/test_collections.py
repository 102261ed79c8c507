"""Opening an existing Qdrant collection, read-only, as vectors to explore (issue 28): vecexplore's own store
folder, qdrant-client local-mode folders, a server that does not answer; seeded sampling; what the app may open;
the CLI's open-collection and the Search page's expander."""

import contextlib
import io
import json

import numpy as np
import pytest

from helpers import ok, shown, start
from vecexplore.cli import main
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.maps.projection import Projector
from vecexplore.maps.report import map_report
from vecexplore.search.collections import allowed_source, collection_set, read_collection
from vecexplore.search.opening import open_store, store_folder


def clustered(n: int = 90, dims: int = 16, seed: int = 0) -> tuple[list[str], list[str], np.ndarray]:
    """Texts, labels and vectors around three centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dims)) * 3
    labels = [f"topic {i % 3}" for i in range(n)]
    vectors = (centres[np.arange(n) % 3] + rng.normal(size=(n, dims))).astype(np.float32)
    return [f"sentence {i} about topic {i % 3}" for i in range(n)], labels, vectors


def cli(*argv: str) -> tuple[int, dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, json.loads(out.getvalue())


def local_mode(folder, collections: dict[str, dict], *, n: int = 40, seed: int = 0, payload=None) -> None:
    """qdrant-client local-mode collections (name → vectors_config) holding ``n`` points with a text payload."""
    from qdrant_client import QdrantClient, models

    rng = np.random.default_rng(seed)
    client = QdrantClient(path=str(folder))
    for name, config in collections.items():
        client.create_collection(name, vectors_config=config)
        if isinstance(config, dict):
            vector = [{k: rng.normal(size=v.size).tolist() for k, v in config.items()} for _ in range(n)]
        else:
            vector = rng.normal(size=(n, config.size)).tolist()
        points = [models.PointStruct(id=i, vector=vector[i], payload=(payload or (lambda i: {
            "text": f"a plain point number {i}", "score": i / 10}))(i)) for i in range(n)] if n else []
        if points:
            client.upsert(name, points)
    client.close()


@pytest.fixture
def indexed(tmp_path):
    """A collection indexed by vecexplore into its own store folder (Qdrant Edge), with two user columns."""
    texts, labels, vectors = clustered()
    eset = EmbeddingSet(texts, vectors, "test-model", "v1", labels)
    store = open_store(path=tmp_path / "store")
    store.index("notes", eset, columns=[{"year": str(2000 + i), "my col": f"c{i % 2}"} for i in range(eset.n)])
    yield eset, tmp_path / "store"
    store.close()


def test_a_vecexplore_collection_opens_with_its_texts_vectors_and_tag(indexed):
    eset, folder = indexed
    corpus = read_collection("notes", path=folder)
    assert sorted(corpus.texts) == sorted(eset.texts) and corpus.name == "qdrant:notes"
    order = [eset.texts.index(t) for t in corpus.texts]
    np.testing.assert_allclose(corpus.vectors, eset.normalized()[order], atol=1e-6)  # cosine: stored unit-length
    assert corpus.labels == [eset.labels[i] for i in order]
    assert corpus.columns[0].keys() == {"year", "my col"}  # the stand-in key read back as the user's name
    assert [int(c["year"]) - 2000 for c in corpus.columns] == order
    tag = corpus.origin.tag
    assert (tag.model_id, tag.model_version, tag.dims) == ("test-model", "v1", 16)
    opened = collection_set(corpus)
    assert (opened.model_id, opened.model_version, opened.transform) == ("test-model", "v1", "none")
    mine, theirs = map_report(opened, Projector("pca")), map_report(eset, Projector("pca"))
    assert mine.quality.trustworthiness == pytest.approx(theirs.quality.trustworthiness, abs=1e-9)
    assert mine.quality.knn_kept == pytest.approx(theirs.quality.knn_kept, abs=1e-9)
    signs = np.sign(mine.coords[0]) * np.sign(theirs.coords[order[0]])  # PCA's axes may point either way
    np.testing.assert_allclose(mine.coords * signs, theirs.coords[order], atol=1e-4)


def test_the_command_line_opens_it_and_project_reads_the_parquet(indexed, tmp_path):
    eset, folder = indexed
    code, out = cli("open-collection", "--collection", "notes", "--qdrant-path", str(folder), "-o",
                    str(tmp_path / "notes.parquet"), "--json")
    assert code == 0, out
    assert {"n", "dims", "fields", "tag", "notes", "collection", "model", "version", "output"} <= out.keys()
    assert (out["n"], out["dims"], out["tag"]["model_id"], out["model"]) == (90, 16, "test-model", "test-model")
    assert {"text", "label", "year", "my col"} <= set(out["fields"])
    code, projected = cli("project", str(tmp_path / "notes.parquet"), "--method", "pca")
    assert code == 0, projected
    assert projected["model"] == "test-model" and projected["trustworthiness"] == pytest.approx(
        map_report(eset, Projector("pca")).quality.trustworthiness, abs=1e-6)


def test_plain_local_mode_collections_open_without_a_tag(tmp_path):
    from qdrant_client import models

    local_mode(tmp_path / "lm", {
        "unnamed": models.VectorParams(size=8, distance=models.Distance.DOT),
        "one-named": {"emb": models.VectorParams(size=6, distance=models.Distance.EUCLID)},
        "two-named": {"a": models.VectorParams(size=4, distance=models.Distance.DOT),
                      "b": models.VectorParams(size=5, distance=models.Distance.DOT)},
    })
    corpus = read_collection("unnamed", path=tmp_path / "lm")
    assert corpus.origin.tag is None and len(corpus) == 40 and corpus.vectors.shape == (40, 8)
    assert corpus.texts[3] == "a plain point number 3" and corpus.columns[3] == {"score": "0.3"}
    assert corpus.labels is None and corpus.origin.text_field == "text"
    opened = collection_set(corpus)
    assert opened.model_id == "imported:qdrant:unnamed" and opened.n == 40
    assert read_collection("one-named", path=tmp_path / "lm").vectors.shape == (40, 6)
    assert read_collection("two-named", path=tmp_path / "lm", vector="b").origin.vector == "b"
    local_mode(tmp_path / "ids", {"numbers": models.VectorParams(size=3, distance=models.Distance.DOT)}, n=5,
               payload=lambda i: {"n": i, "label": "odd" if i % 2 else "even"})
    numbers = read_collection("numbers", path=tmp_path / "ids")
    assert numbers.texts == [f"point {i}" for i in range(5)] and numbers.labels[:2] == ["even", "odd"]
    assert numbers.columns[1] == {"n": "1"} and "shown by its id" in numbers.notes[0]


def test_a_large_collection_is_sampled_reproducibly(tmp_path):
    from qdrant_client import models

    local_mode(tmp_path / "lm", {"big": models.VectorParams(size=4, distance=models.Distance.DOT)}, n=300)
    first = read_collection("big", path=tmp_path / "lm", limit=100, seed=3)
    again = read_collection("big", path=tmp_path / "lm", limit=100, seed=3)
    other = read_collection("big", path=tmp_path / "lm", limit=100, seed=4)
    assert len(first) == 100 and first.texts == again.texts and first.texts != other.texts
    np.testing.assert_array_equal(first.vectors, again.vectors)
    assert "100 of 300 points, sampled with seed 3." in first.notes and first.origin.points == 300
    assert len(read_collection("big", path=tmp_path / "lm", limit=300)) == 300


def test_a_private_collection_is_read_only_by_its_session(tmp_path):
    texts, labels, vectors = clustered(20)
    store = open_store(path=tmp_path / "store").acting_as("session-a")
    store.index("mine", EmbeddingSet(texts, vectors, "m", "1"), shared=False)
    assert len(read_collection("mine", path=tmp_path / "store", caller="session-a")) == 20
    with pytest.raises(VecexploreError, match="No collection 'mine'.*collections there: none"):
        read_collection("mine", path=tmp_path / "store", caller="session-b")
    store.close()


def test_bad_collections_are_refused_with_a_message(tmp_path, monkeypatch, hostile):
    import qdrant_client.local.local_collection as local
    from qdrant_client import models

    dot = models.VectorParams(size=4, distance=models.Distance.DOT)
    local_mode(tmp_path / "lm", {"two": {"a": dot, "b": dot}, "ok": dot})
    local_mode(tmp_path / "empty", {"nothing": dot}, n=0)
    local_mode(tmp_path / "novec", {"payload-only": {}}, n=0)
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(tmp_path / "novec"))
    client.upsert("payload-only", [models.PointStruct(id=i, vector={}, payload={"text": f"t{i}"}) for i in range(3)])
    client.close()
    local_mode(tmp_path / "unset", {"unset": {"dense": dot}}, n=0)
    client = QdrantClient(path=str(tmp_path / "unset"))  # a named vector configured, but no point has it
    client.upsert("unset", [models.PointStruct(id=i, vector={}, payload={"text": f"t{i}"}) for i in range(3)])
    client.close()
    with monkeypatch.context() as m:  # qdrant-client refuses NaN; a server or an old client may hold some
        m.setattr(local, "validate_dense_vector", lambda *args: None)
        local_mode(tmp_path / "nan", {"nan": dot}, n=5)
        client = QdrantClient(path=str(tmp_path / "nan"))
        client.upsert("nan", [models.PointStruct(id=2, vector=[np.nan, 1.0, 2.0, 3.0], payload={"text": "x"})])
        client.close()
    cases = [
        ("a missing collection", dict(name="nope", path=tmp_path / "lm"), "collections there: ok, two"),
        ("several named vectors, none chosen", dict(name="two", path=tmp_path / "lm"), "choose one of: a (4-d), b"),
        ("a named vector it does not have", dict(name="two", path=tmp_path / "lm", vector="c"), "has no vector 'c'"),
        ("a collection with 0 points", dict(name="nothing", path=tmp_path / "empty"), "holds no points"),
        ("a collection storing no vectors", dict(name="payload-only", path=tmp_path / "novec"),
         "stores no dense vectors"),
        ("a collection whose points have no vectors", dict(name="unset", path=tmp_path / "unset"),
         "No point of collection 'unset' has vector 'dense' stored"),
        ("a NaN vector", dict(name="nan", path=tmp_path / "nan"), "NaN or infinite values (first: point 2)"),
        ("a server that does not answer", dict(name="c", url="http://127.0.0.1:9", timeout=1.0),
         "The Qdrant server at http://127.0.0.1:9 does not answer"),
        ("a folder that is no Qdrant folder", dict(name="c", path=tmp_path), "is not a Qdrant folder"),
        ("an unknown text field", dict(name="ok", path=tmp_path / "lm", text_field="body"), "no payload field 'body'"),
        ("a limit of 5 points", dict(name="ok", path=tmp_path / "lm", limit=5), "limit must be between 100"),
    ]
    for given, kwargs, expected in cases:
        with pytest.raises(VecexploreError) as raised:
            read_collection(kwargs.pop("name"), **kwargs)
        assert expected in str(raised.value), (given, str(raised.value))
        hostile("core: opening a Qdrant collection", given, str(raised.value))
    code, out = cli("open-collection", "--collection", "c", "--qdrant-url", "http://127.0.0.1:9")
    assert code == 2 and "The Qdrant server at http://127.0.0.1:9 does not answer" in out["error"], out
    hostile("CLI: open-collection", "--qdrant-url http://127.0.0.1:9 (nothing listens there)", out["error"])
    code, out = cli("open-collection", "--collection", "payload-only", "--qdrant-path", str(tmp_path / "novec"))
    assert code == 2 and "stores no dense vectors" in out["error"], out
    hostile("CLI: open-collection", "a collection storing only payload (no vectors)", out["error"])
    code, out = cli("open-collection", "--collection", "c")
    assert code == 2 and "--qdrant-url" in out["error"]
    hostile("CLI: open-collection", "no --qdrant-url and no --qdrant-path", out["error"])


def test_the_app_opens_only_allowed_folders_and_servers(tmp_path, monkeypatch, hostile):
    for env in ("VECEXPLORE_DATA_DIRS", "VECEXPLORE_QDRANT_ALLOW", "VECEXPLORE_QDRANT_URL"):
        monkeypatch.delenv(env, raising=False)
    with pytest.raises(VecexploreError, match="VECEXPLORE_DATA_DIRS") as raised:
        allowed_source(path=str(tmp_path))
    hostile("app: opening a Qdrant collection", "a folder when no data folder is configured", str(raised.value))
    with pytest.raises(VecexploreError, match="VECEXPLORE_QDRANT_ALLOW") as raised:
        allowed_source(url="http://127.0.0.1:6333")
    hostile("app: opening a Qdrant collection", "a URL when no server is allowed", str(raised.value))
    data = tmp_path / "data"
    (data / "lm").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (data / "link").symlink_to(tmp_path / "outside")
    monkeypatch.setenv("VECEXPLORE_DATA_DIRS", f"{data}:{store_folder().parent}")
    monkeypatch.setenv("VECEXPLORE_QDRANT_ALLOW", "http://qdrant:6333, https://q.example.org/base")
    assert allowed_source(path=str(data / "lm")) == (None, (data / "lm").resolve())
    assert allowed_source(url="http://qdrant:6333/")[0] == "http://qdrant:6333/"
    assert allowed_source(url="https://q.example.org:443/base/x")[0]
    refused = {
        "a folder outside the data folders": str(tmp_path / "outside"),
        "a folder outside the data folders that does not exist": str(tmp_path / "missing"),
        "a symlink out of a data folder": str(data / "link"),
        "..": f"{data}/../outside",
        "~": "~/data",
        "a relative path": "data/lm",
        "the app's own store folder": str(store_folder()),
        "a folder inside the app's own store": str(store_folder() / "edge"),
    }
    messages = {}
    for given, path in refused.items():
        with pytest.raises(VecexploreError) as raised:
            allowed_source(path=path)
        messages[given] = str(raised.value).replace(repr(path), "PATH")
        hostile("app: opening a Qdrant collection", f"{given}: {path}", str(raised.value))
    assert len(set(messages.values())) == 1  # the same answer, whether the folder exists or not
    for url in ("http://qdrant:6333.evil.org", "http://qdrant:6334", "https://qdrant:6333", "http://user@qdrant:6333",
                "https://q.example.org/other", "file:///etc/passwd"):
        with pytest.raises(VecexploreError, match="not a Qdrant server this app may open") as raised:
            allowed_source(url=url)
        hostile("app: opening a Qdrant collection", url, str(raised.value))


def test_the_search_page_opens_a_collection_as_the_corpus(tmp_path, monkeypatch, hostile):
    from qdrant_client import models

    monkeypatch.delenv("VECEXPLORE_DATA_DIRS", raising=False)
    monkeypatch.delenv("VECEXPLORE_QDRANT_ALLOW", raising=False)
    monkeypatch.delenv("VECEXPLORE_QDRANT_URL", raising=False)
    at = start("pages/search.py")
    ok(at)
    assert any("VECEXPLORE_DATA_DIRS" in shown(c) for c in at.caption)
    local_mode(tmp_path / "data" / "lm", {"plain": models.VectorParams(size=8, distance=models.Distance.DOT)})
    monkeypatch.setenv("VECEXPLORE_DATA_DIRS", str(tmp_path / "data"))
    at.text_input(key="oc_where").set_value(str(tmp_path / "elsewhere")).run()
    at.text_input(key="oc_name").set_value("plain").run()
    at.button(key="oc_open").click().run()
    ok(at)
    message = next(shown(e) for e in at.error if "not a folder this app may open" in shown(e))
    hostile("Search page: Open an existing collection", "a folder outside the data folders", message)
    monkeypatch.setenv("VECEXPLORE_QDRANT_ALLOW", "http://127.0.0.1:9")
    at.text_input(key="oc_where").set_value("http://127.0.0.1:9").run()
    at.button(key="oc_open").click().run()
    ok(at)
    message = next(shown(e) for e in at.error if "does not answer" in shown(e))
    hostile("Search page: Open an existing collection", "an allowed server URL where nothing answers", message)
    at.text_input(key="oc_where").set_value(str(tmp_path / "data" / "lm")).run()
    at.button(key="oc_open").click().run()
    ok(at)
    assert at.sidebar.radio(key="source").value == "Qdrant collection"
    corpus = at.session_state["selection"].corpus
    assert len(corpus) == 40 and corpus.name == "qdrant:plain" and corpus.vectors.shape == (40, 8)
    assert any("Opened plain: 40 points" in shown(s) for s in at.success)
    at.switch_page("pages/projection.py")
    at.run()
    ok(at)
    assert at.session_state["selection"].corpus.name == "qdrant:plain"


def test_a_collection_vecexplore_indexed_keeps_its_model_in_the_app(indexed, monkeypatch):
    _, folder = indexed
    monkeypatch.setenv("VECEXPLORE_DATA_DIRS", str(folder.parent))
    at = start("pages/search.py")
    at.text_input(key="oc_where").set_value(str(folder)).run()
    at.text_input(key="oc_name").set_value("notes").run()
    at.button(key="oc_open").click().run()
    ok(at)
    at.switch_page("pages/isotropy.py")
    at.run()
    ok(at)
    from pages.ui import session

    shown_models = [shown(m) for m in [*at.markdown, *at.caption] if "test-model" in shown(m)]
    assert shown_models, "the data flow names the collection's model, not imported vectors"
    assert session.collection_set(at.session_state["selection"].corpus).model_id == "test-model"
