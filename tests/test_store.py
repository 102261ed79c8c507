"""Opening the store: Qdrant Edge by default (one process per folder), a server by URL, old local-mode folders."""

import subprocess
import sys

import pytest

from vecexplore.errors import VecexploreError
from vecexplore.search.opening import import_legacy, legacy_collections, open_store


def test_second_process_gets_a_clear_message(tmp_path, hostile):
    store = open_store(path=tmp_path / "qdrant")
    assert store.names() == [] and store.backend.kind == "edge"
    assert open_store(path=tmp_path / "qdrant") is not store and open_store(path=tmp_path / "qdrant").backend is \
        store.backend  # one handle per folder and process
    script = ("from vecexplore.search.opening import open_store\nfrom vecexplore.errors import VecexploreError\n"
              f"try:\n    open_store(path={str(tmp_path / 'qdrant')!r})\n"
              "except VecexploreError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert str(tmp_path / "qdrant") in message and "VECEXPLORE_QDRANT_URL" in message and "WAL" not in message
    hostile("core: opening the Qdrant store", "a second process opens an embedded folder already in use", message)
    store.close()


def test_server_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("VECEXPLORE_QDRANT_URL", "http://127.0.0.1:6333")
    store = open_store()
    assert store.backend.kind == "server" and store.where == "Qdrant server at http://127.0.0.1:6333"


def test_default_folder_follows_vecexplore_home(tmp_path, monkeypatch):
    monkeypatch.delenv("VECEXPLORE_QDRANT_URL", raising=False)
    monkeypatch.setenv("VECEXPLORE_HOME", str(tmp_path))
    store = open_store()
    assert (tmp_path / "qdrant" / "edge").is_dir() and str(tmp_path / "qdrant") in store.where
    store.close()


def test_damaged_shard_is_a_clear_error(tmp_path, topic_eset, hostile):
    store = open_store(path=tmp_path / "q")
    store.index("c", topic_eset)
    store.close()
    for path in (tmp_path / "q" / "edge" / "c" / "shard").rglob("*"):
        if path.is_file():
            path.write_bytes(b"not a shard at all")
    store = open_store(path=tmp_path / "q")
    with pytest.raises(VecexploreError, match="could not open collection 'c'") as raised:
        store.search("c", topic_eset.subset([0]))
    hostile("core: opening the Qdrant store", "a collection whose shard files are garbage", str(raised.value))
    store.close()


def test_old_local_mode_folder_is_found_and_imported(tmp_path, topic_eset, hostile):
    from qdrant_client import QdrantClient

    from vecexplore.search.qdrant.server import ServerBackend
    from vecexplore.search.store import Store

    client = QdrantClient(path=str(tmp_path / "q"))  # what older versions wrote
    Store(ServerBackend(client, "old")).index("old-demo", topic_eset)
    client.close()
    assert legacy_collections(tmp_path / "q") == ["old-demo"]
    store = open_store(path=tmp_path / "q")
    done = import_legacy(store, tmp_path / "q")
    assert done[0]["collection"] == "old-demo" and done[0]["points"] == topic_eset.n
    assert store.tag("old-demo").model_id == topic_eset.model_id
    assert store.search("old-demo", topic_eset.subset([4]), k=1)[0][0].text == topic_eset.texts[4]
    assert legacy_collections(tmp_path / "q") == [] and (tmp_path / "q" / "local-mode-imported" / "meta.json").exists()
    store.close()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "meta.json").write_text("{broken")
    (tmp_path / "b" / "collection" / "x").mkdir(parents=True)
    store = open_store(path=tmp_path / "b")
    with pytest.raises(VecexploreError, match="cannot be read") as raised:
        import_legacy(store, tmp_path / "b")
    hostile("core: importing an old local-mode folder", "a store folder whose meta.json is broken JSON",
            str(raised.value))
    store.close()
