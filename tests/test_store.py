import pytest

from vecexplore.errors import VecexploreError
from vecexplore.store import open_client


def test_embedded_store_is_locked_with_a_clear_message(tmp_path, hostile):
    client = open_client(path=tmp_path / "qdrant")
    assert client.get_collections().collections == []
    with pytest.raises(VecexploreError, match="already open in another process.*VECEXPLORE_QDRANT_URL") as raised:
        open_client(path=tmp_path / "qdrant")
    hostile('core: opening the Qdrant store', 'a second client on a folder already open', str(raised.value))
    client.close()


def test_server_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("VECEXPLORE_QDRANT_URL", "http://127.0.0.1:6333")
    client = open_client()
    assert client.init_options["url"] == "http://127.0.0.1:6333" and client.init_options["path"] is None


def test_default_folder_follows_vecexplore_home(tmp_path, monkeypatch):
    monkeypatch.delenv("VECEXPLORE_QDRANT_URL", raising=False)
    monkeypatch.setenv("VECEXPLORE_HOME", str(tmp_path))
    client = open_client()
    assert (tmp_path / "qdrant").is_dir()
    client.close()


def test_damaged_folder_is_a_clear_error(tmp_path, hostile):
    client = open_client(path=tmp_path / "q")
    from qdrant_client import models

    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE))
    client.close()
    (tmp_path / "q" / "collection" / "c" / "storage.sqlite").write_bytes(b"not a database at all")
    with pytest.raises(VecexploreError, match="damaged.*VECEXPLORE_HOME") as raised:
        open_client(path=tmp_path / "q")
    hostile('core: opening the Qdrant store', 'a collection whose storage.sqlite is garbage', str(raised.value))
    (tmp_path / "q2").mkdir()
    (tmp_path / "q2" / "meta.json").write_text("{broken")
    with pytest.raises(VecexploreError, match="damaged") as raised:
        open_client(path=tmp_path / "q2")
    hostile('core: opening the Qdrant store', 'a store folder whose meta.json is broken JSON', str(raised.value))
