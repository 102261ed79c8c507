"""``embed --ray`` and ``index --ray`` (vecexplore/distributed.py): on a local Ray instance the vectors equal the
local path's and an index built from them searches the same; the option's hostile inputs are refused as JSON
before any model is loaded. The Ray runs skip when the extra (``vecexplore[ray]``) is not installed."""

import csv
import json
import socket
import sys

import numpy as np
import pytest

from vecexplore.cli import main
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import MINILM_ID

try:
    import ray
    import ray.data  # noqa: F401
except ImportError:
    ray = None

needs_ray = pytest.mark.skipif(ray is None, reason="Ray Data is not installed (pip install 'vecexplore[ray]')")


def run(capsys, argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory, topics):
    """40 texts of the topics demo, every seventh, so each of its topics is there."""
    path = tmp_path_factory.mktemp("ray") / "forty.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["text", "label"])
        out.writerows(zip(topics.texts[::7][:40], topics.labels[::7][:40], strict=True))
    return path


@pytest.fixture(scope="module")
def local_ray():
    """One in-process Ray instance for the module's runs (the commands use a running one as it is)."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="error", log_to_driver=False)
    yield
    ray.shutdown()


@needs_ray
@pytest.mark.slow
def test_ray_vectors_equal_the_local_path(capsys, corpus_file, tmp_path, local_ray):
    code, here = run(capsys, ["embed", str(corpus_file), "--model", MINILM_ID, "--no-cache",
                              "-o", str(tmp_path / "local.parquet")])
    assert code == 0, here
    code, there = run(capsys, ["embed", str(corpus_file), "--model", MINILM_ID, "--ray", "local", "--ray-workers",
                               "2", "--ray-shards", str(tmp_path / "shards"), "-o", str(tmp_path / "ray.parquet")])
    assert code == 0, there
    assert set(there) - set(here) == {"ray"} and there["ray"]["workers"] == 2 and there["ray"]["files"] == 2
    assert {k: there[k] for k in ("n", "dims", "model", "version", "backend")} == \
        {k: here[k] for k in ("n", "dims", "model", "version", "backend")}
    a, b = EmbeddingSet.from_parquet(tmp_path / "local.parquet"), EmbeddingSet.from_parquet(tmp_path / "ray.parquet")
    assert (a.texts, a.labels, a.model_id, a.model_version) == (b.texts, b.labels, b.model_id, b.model_version)
    np.testing.assert_allclose(b.vectors, a.vectors, atol=1e-5)
    cosines = (a.vectors * b.vectors).sum(1) / np.linalg.norm(a.vectors, axis=1) / np.linalg.norm(b.vectors, axis=1)
    assert cosines.min() >= 0.9999
    # the workers' shards hold every row once, with its text
    import pyarrow.parquet as pq

    shards = pq.read_table(tmp_path / "shards")
    order = np.argsort(shards.column("row").to_numpy())
    assert shards.column("text").to_numpy(zero_copy_only=False)[order].tolist() == a.texts


@needs_ray
@pytest.mark.slow
def test_ray_index_searches_like_a_local_one(capsys, corpus_file, tmp_path, local_ray):
    store = ["--qdrant-path", str(tmp_path / "qd")]
    code, here = run(capsys, ["index", str(corpus_file), "--model", MINILM_ID, "--collection", "here", *store])
    assert code == 0, here
    code, there = run(capsys, ["index", str(corpus_file), "--model", MINILM_ID, "--collection", "there", *store,
                               "--ray", "local"])
    assert code == 0, there
    assert there["points"] == here["points"] == 40 and there["tag"]["model_version"] == here["tag"]["model_version"]
    assert "ray" in there and "ray" not in here
    for query in ["a late goal won the match", "interest rates and inflation"]:
        hits = [run(capsys, ["search", query, "--collection", c, *store, "--k", "10", "--exact"])[1]["hits"]
                for c in ("here", "there")]
        assert [h["text"] for h in hits[0]] == [h["text"] for h in hits[1]]
        np.testing.assert_allclose([h["score"] for h in hits[1]], [h["score"] for h in hits[0]], atol=1e-5)


def _silent_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("extra, message", [
    (["--ray", "ray://127.0.0.1:{port}"], "Nothing answers at ray://127.0.0.1:"),
    (["--ray", "10.0.0.1"], "give local (a Ray instance in this process), auto"),
    (["--ray", "ray://head:99999"], "ray://HOST:PORT (a cluster's client port"),
    (["--ray", "local", "--ray-workers", "0"], "--ray-workers: must be between 1 and 10000"),
    (["--ray", "local", "--ray-workers", "10000"], "one per worker of --ray local; join a cluster for more"),
    (["--ray", "local", "--model", "tfidf-lsa"], "tfidf-lsa is fitted on the whole corpus"),
])
def test_hostile_ray_options_are_refused(capsys, corpus_file, hostile, extra, message):
    model = [] if "--model" in extra else ["--model", MINILM_ID]
    port = _silent_port()
    code, out = run(capsys, ["embed", str(corpus_file), *model, *(e.format(port=port) for e in extra)])
    assert code == 2 and message in out["error"], out
    hostile("CLI: embed --ray", " ".join(extra).replace("{port}", "PORT (nothing listens)"),
            out["error"].replace(str(port), "PORT"))


def test_ray_on_a_file_of_vectors_is_refused(capsys, corpus_file, tmp_path, hostile):
    code, _ = run(capsys, ["embed", str(corpus_file), "--model", "glove-6B-50d", "-o", str(tmp_path / "e.parquet")])
    assert code == 0
    code, out = run(capsys, ["index", str(tmp_path / "e.parquet"), "--collection", "c", "--qdrant-path",
                             str(tmp_path / "qd"), "--ray", "local"])
    assert code == 2 and "already holds vectors, so --ray has nothing to embed" in out["error"], out
    hostile("CLI: index --ray", "--ray local on a vecexplore embeddings .parquet", out["error"])


def test_shards_folder_of_the_user_is_never_emptied(capsys, corpus_file, tmp_path, hostile):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("theirs")
    code, out = run(capsys, ["embed", str(corpus_file), "--model", "glove-6B-50d", "--ray", "local",
                             "--ray-shards", str(tmp_path / "mine")])
    assert code == 2 and "is not an empty folder" in out["error"], out
    assert (tmp_path / "mine" / "keep.txt").read_text() == "theirs"
    hostile("CLI: embed --ray", "--ray-shards FOLDER holding a file of the user's", out["error"])


def test_without_ray_installed_the_option_says_how_to_get_it(capsys, corpus_file, monkeypatch, hostile):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as it does without the extra
    code, out = run(capsys, ["embed", str(corpus_file), "--model", "glove-6B-50d", "--ray", "local"])
    assert code == 2 and "pip install 'vecexplore[ray]'" in out["error"], out
    hostile("CLI: embed --ray", "--ray local without the ray extra installed", out["error"])
