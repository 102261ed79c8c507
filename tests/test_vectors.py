"""Your own vectors (files/vectors.py): vectors made by plain sentence-transformers and opened from Parquet, .npy +
metadata CSV or a datasets folder give the map, clusters and trustworthiness of vecexplore's own embedding of the
same texts; the CLI and the sidebar open them; every bad file is refused with a message that says what to fix."""

import io
import json
import shlex

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import figure_points, ok, said, shown, start
from vecexplore.cli import main
from vecexplore.files import vectors
from vecexplore.maps.projection import Projector
from vecexplore.maps.report import cluster_report, map_report
from vecexplore.pipeline import imported_set


@pytest.fixture(scope="module")
def st_vectors(topics):
    """The demo topics embedded by sentence-transformers itself, unit length."""
    from sentence_transformers import SentenceTransformer

    from vecexplore.encoders.sentence_transformer import minilm_folder

    return SentenceTransformer(str(minilm_folder()), device="cpu").encode(topics.texts, normalize_embeddings=True)


@pytest.fixture(scope="module")
def reference(topic_eset):
    """vecexplore's own MiniLM (torch) embedding of the same texts: PCA map, trustworthiness, k-means labels."""
    report = map_report(topic_eset, Projector("pca"))
    return report.coords, report.quality.trustworthiness, cluster_report(topic_eset).labeler.labels_


@pytest.fixture(scope="module")
def table(topics, st_vectors):
    return pd.DataFrame({"id": range(len(topics)), "text": topics.texts, "label": topics.labels,
                         "emb": list(st_vectors)})


def assert_same_analysis(corpus, topics, reference):
    coords, trust, labels = reference
    eset = imported_set(corpus)
    assert eset.texts == topics.texts and eset.labels == topics.labels
    assert eset.info["source"] == "user vectors" and eset.info["normalised"] and eset.info["dims"] == 384
    report = map_report(eset, Projector("pca"))
    np.testing.assert_array_almost_equal(report.coords, coords, decimal=3)
    assert report.quality.trustworthiness == pytest.approx(trust, abs=5e-4)
    assert np.array_equal(cluster_report(eset).labeler.labels_, labels)


def test_parquet_gives_the_analysis_of_vecexplores_own_embedding(tmp_path, table, topics, st_vectors, reference):
    table.to_parquet(tmp_path / "mine.parquet")
    corpus = vectors.open_vectors(tmp_path / "mine.parquet", label_col="label")
    assert corpus.vectors.dtype == np.float32 and np.array_equal(corpus.vectors, st_vectors)
    assert corpus.columns[0] == {"id": "0"}
    eset = imported_set(corpus)
    assert eset.model_id == "imported:mine.parquet" and eset.model_version.startswith("sha256:")
    assert_same_analysis(corpus, topics, reference)


def test_npy_with_metadata_csv(tmp_path, table, topics, st_vectors, reference):
    np.save(tmp_path / "emb.npy", st_vectors)
    table[["text", "label"]].to_csv(tmp_path / "emb.csv", index=False)  # found beside the array
    assert_same_analysis(vectors.open_vectors(tmp_path / "emb.npy", label_col="label"), topics, reference)


def test_npy_without_metadata_names_rows(tmp_path, st_vectors):
    np.savez(tmp_path / "only.npz", vectors=st_vectors[:5] * 2)
    corpus = vectors.open_vectors(tmp_path / "only.npz")
    assert corpus.texts == [f"row {i}" for i in range(5)] and "without a metadata table" in corpus.notes[0]
    assert not corpus.vector_info["normalised"] and np.allclose(corpus.vectors, st_vectors[:5] * 2)


def test_datasets_folder(tmp_path, table, topics, reference):
    import datasets

    datasets.Dataset.from_pandas(table).save_to_disk(str(tmp_path / "ds"))
    assert_same_analysis(vectors.open_vectors(tmp_path / "ds", label_col="label"), topics, reference)


def test_arrow_file_and_fixed_size_lists(tmp_path, st_vectors):
    flat = pa.array(st_vectors[:4].ravel())
    fixed = pa.table({"text": ["a b", "c d", "e f", "g h"], "v": pa.FixedSizeListArray.from_arrays(flat, 384)})
    with pa.OSFile(str(tmp_path / "v.arrow"), "wb") as sink, pa.ipc.new_file(sink, fixed.schema) as writer:
        writer.write_table(fixed)
    corpus = vectors.open_vectors(tmp_path / "v.arrow", metric="dot")
    assert np.array_equal(corpus.vectors, st_vectors[:4]) and corpus.vector_info["metric"] == "dot"


def run(capsys, line: str) -> tuple[int, dict]:
    code = main(shlex.split(line))
    return code, json.loads(capsys.readouterr().out)


def test_cli_project_and_clusters(capsys, tmp_path, table, reference):
    table.to_parquet(tmp_path / "mine.parquet")
    code, out = run(capsys, f"project {tmp_path}/mine.parquet --vectors-col emb --method pca --json")
    assert code == 0, out
    assert out["model"] == "imported:mine.parquet" and out["trustworthiness"] == pytest.approx(reference[1], abs=5e-4)
    code, out = run(capsys, f"embed {tmp_path}/mine.parquet --label-col label --json")  # found without --vectors-col
    assert code == 0 and out["normalised"] and out["metric"] == "cosine" and out["dims"] == 384, out


def test_cli_shift_of_two_vector_files(capsys, tmp_path, st_vectors, topics):
    labels = np.array(topics.labels)
    np.save(tmp_path / "a.npy", st_vectors[labels == "sport"])
    np.save(tmp_path / "b.npy", st_vectors[labels == "cooking"])
    code, out = run(capsys, f"shift {tmp_path}/a.npy {tmp_path}/b.npy --permutations 100")
    assert code == 0, out
    assert out["models"]["your vectors"]["verdict"] == "B is clearly separated from A"


BAD = {
    "ragged.parquet": pd.DataFrame({"text": ["a", "b", "c"], "emb": [[1.0, 2.0], [1.0, 2.0], [1.0, 2.0, 3.0]]}),
    "inf.parquet": pd.DataFrame({"text": ["a", "b"], "emb": [[1.0, 2.0], [np.inf, 2.0]]}),
    "strings.parquet": pd.DataFrame({"text": ["a", "b"], "emb": ["[1.0, 2.0]", "[3.0, 4.0]"]}),
    "words.parquet": pd.DataFrame({"text": ["a", "b"], "emb": [["x", "y"], ["z", "w"]]}),
    "holes.parquet": pd.DataFrame({"text": ["a", "b"], "emb": [[1.0, 2.0], None]}),
    "two.parquet": pd.DataFrame({"text": ["a", "b"], "e1": [[1.0, 2.0]] * 2, "e2": [[1.0, 2.0]] * 2}),
}

REFUSED = [
    ("project {dir}/ragged.parquet --method pca", "row 0 has 2 numbers but row 2 has 3"),
    ("project {dir}/nan.npy --method pca", "NaN or infinite numbers in 1 of 3 vectors (first: row 1)"),
    ("project {dir}/inf.parquet --method pca", "NaN or infinite numbers in 1 of 2 vectors (first: row 1)"),
    ("project {dir}/strings.parquet --vectors-col emb", "holds text, not lists of numbers"),
    ("project {dir}/words.parquet --vectors-col emb", "holds lists of string, not vectors of numbers"),
    ("project {dir}/holes.parquet --vectors-col emb", "Row 1 of holes.parquet has no vector"),
    ("project {dir}/empty.parquet --vectors-col emb", "empty.parquet has no rows"),
    ("project {dir}/empty.npy", "empty.npy has no rows"),
    ("project {dir}/short.npy", "short.csv has 2 rows but short.npy holds 3 vectors"),
    ("project {dir}/ragged.npy", "holds Python objects"),
    ("project {dir}/flat.npy", "vectors must be a 2-D array"),
    ("project {dir}/pair.npz", "holds 2 arrays (a, b): name the one"),
    ("project {dir}/two.parquet", "has 2 columns of vectors (e1, e2)"),
    ("project {dir}/two.parquet --vectors-col e3", "has no column 'e3'"),
    ("project {dir}/missing.npy", "missing.npy does not exist"),
    ("project {dir}/notes --method pca", "is not a folder written by datasets' save_to_disk"),
    ("project {dir}/two.parquet --vectors-col e1 --model glove-6B-50d", "leave out --model"),
    ("project {dir}/two.parquet --vectors-col e1 --metadata {dir}/short.csv", "goes with a .npy or .npz"),
    ("shift {dir}/nan.npy {dir}/short.csv", "Give two files of vectors"),
    ("shift {dir}/flat2.npy {dir}/wide.npy", "A's vectors have 2 dims but B's have 3"),
]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_vectors")
    for name, frame in BAD.items():
        frame.to_parquet(root / name)
    pq.write_table(pa.table({"emb": pa.array([], pa.list_(pa.float32()))}), root / "empty.parquet")
    np.save(root / "nan.npy", np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, 4.0]], np.float32))
    np.save(root / "empty.npy", np.zeros((0, 4), np.float32))
    np.save(root / "short.npy", np.ones((3, 4), np.float32))
    (root / "short.csv").write_text("text\none\ntwo\n")
    np.save(root / "ragged.npy", np.array([[1.0, 2.0], [1.0]], dtype=object), allow_pickle=True)
    np.save(root / "flat.npy", np.ones(5, np.float32))
    np.savez(root / "pair.npz", a=np.ones((2, 2)), b=np.ones((2, 2)))
    (root / "notes").mkdir()
    np.save(root / "flat2.npy", np.eye(2, dtype=np.float32)[[0, 1] * 10])
    np.save(root / "wide.npy", np.eye(3, dtype=np.float32)[[0, 1, 2] * 7])
    return root


@pytest.mark.parametrize("line,message", REFUSED)
def test_bad_vector_files_are_refused(capsys, bad_files, hostile, line, message):
    code, out = run(capsys, line.format(dir=bad_files))
    assert code == 2 and message in out["error"], out
    hostile(f"CLI: {line.split()[0]} (your vectors)", line.format(dir="…").split(maxsplit=1)[1], out["error"])


def test_a_file_too_large_is_refused(capsys, tmp_path, monkeypatch, hostile):
    np.save(tmp_path / "big.npy", np.ones((100_000, 8), np.float32))
    monkeypatch.setattr(vectors, "MAX_FILE_BYTES", 2**20)
    code, out = run(capsys, f"project {tmp_path}/big.npy")
    assert code == 2 and "big.npy takes 3 MiB; vecexplore opens vector files up to 1 MiB" in out["error"], out
    hostile("CLI: project (your vectors)", "a 3 MiB big.npy over the size limit (lowered to 1 MiB)", out["error"])


def upload_vectors(at, name: str, data: bytes):
    at.sidebar.radio(key="source").set_value("Open your vectors").run()
    at.sidebar.file_uploader(key="vec_upload").set_value((name, data, "application/octet-stream")).run()
    return at


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def test_sidebar_opens_a_vectors_parquet(st_vectors, topics):
    frame = pd.DataFrame({"sentence": topics.texts[:40], "topic": topics.labels[:40], "emb": list(st_vectors[:40])})
    at = upload_vectors(start(), "mine.parquet", parquet_bytes(frame))
    ok(at)
    assert at.sidebar.selectbox(key="model").disabled and at.sidebar.selectbox(key="vec_text_col").value == "sentence"
    at.sidebar.selectbox(key="vec_label_col").set_value("topic").run()
    ok(at)
    assert "imported:mine.parquet" in shown(at.caption[0]) and figure_points(at) == 40
    at.switch_page("pages/isotropy.py").run()
    ok(at)
    said(at.info, "Your vectors are unit length")


def test_sidebar_opens_an_npy_with_its_metadata(st_vectors, topics):
    array = io.BytesIO()
    np.save(array, st_vectors[:30])
    at = upload_vectors(start(), "mine.npy", array.getvalue())
    ok(at)
    said(at.info, "mine.npy came without a metadata table")
    meta = pd.DataFrame({"text": topics.texts[:30], "label": topics.labels[:30]}).to_csv(index=False).encode()
    at.sidebar.file_uploader(key="vec_metadata").set_value(("mine.csv", meta, "text/csv")).run()
    ok(at)
    assert at.sidebar.selectbox(key="vec_label_col").value == "label" and figure_points(at) == 30
    assert at.session_state.selection.corpus.texts == topics.texts[:30]


def test_sidebar_refuses_ragged_vectors(hostile):
    frame = pd.DataFrame({"text": ["one", "two", "three"], "emb": [[1.0, 2.0], [1.0, 2.0], [1.0]]})
    at = upload_vectors(start(), "ragged.parquet", parquet_bytes(frame))
    ok(at)
    hostile("sidebar: Open your vectors", "ragged.parquet (row 2 has 1 number, the others 2)",
            said(at.sidebar.error, "differ in length"))


# --- A text query on your vectors: only from the model that made them, checked on a sample first. ---

def test_the_model_that_made_the_vectors_is_checked_and_tags_them(tmp_path, table, minilm):
    from sklearn.metrics.pairwise import paired_cosine_distances

    from vecexplore.embedder import Embedder
    from vecexplore.numeric import seeded_sample
    from vecexplore.search.model_check import REPRODUCE_COSINE, SAMPLE_ROWS, named_model_set

    table.to_parquet(tmp_path / "mine.parquet")
    mine = imported_set(vectors.open_vectors(tmp_path / "mine.parquet", label_col="label"))
    embedder = Embedder.of(minilm)
    tagged, check = named_model_set(mine, embedder)
    picked = seeded_sample(mine.n, SAMPLE_ROWS, 0)
    expected = 1 - paired_cosine_distances(minilm.encode([mine.texts[i] for i in picked]), mine.vectors[picked])
    assert check.rows == SAMPLE_ROWS and check.passed and check.min_cosine >= REPRODUCE_COSINE
    assert check.min_cosine == pytest.approx(expected.min(), abs=1e-3)
    assert check.median_cosine == pytest.approx(np.median(expected), abs=1e-3)
    assert (tagged.model_id, tagged.model_version) == (minilm.id, minilm.version)
    assert np.array_equal(tagged.vectors, mine.vectors) and tagged.info["model_check"]["passed"]
    assert f"median {check.median_cosine:.4f}" in check.sentence()


def test_a_model_that_does_not_reproduce_the_vectors_is_refused(tmp_path, table, hostile):
    from vecexplore.embedder import Embedder
    from vecexplore.encoders import GLOVE_ID, L3_ID
    from vecexplore.errors import VecexploreError
    from vecexplore.search.model_check import check_model, named_model_set

    table.to_parquet(tmp_path / "mine.parquet")
    mine = imported_set(vectors.open_vectors(tmp_path / "mine.parquet"))
    assert not check_model(mine, Embedder(L3_ID)).passed
    with pytest.raises(VecexploreError, match="does not reproduce your vectors") as refused:
        named_model_set(mine, Embedder(L3_ID))
    hostile("core: named_model_set", "MiniLM vectors with paraphrase-MiniLM-L3-v2 named as their model",
            str(refused.value))
    with pytest.raises(VecexploreError, match="makes 50-d vectors but yours have 384"):
        named_model_set(mine, Embedder(GLOVE_ID))
    rows = imported_set(vectors.vectors_corpus(mine.vectors, None, "bare.npy"))  # no texts: points named by row
    with pytest.raises(VecexploreError, match="came without their texts"):
        named_model_set(rows, Embedder(L3_ID))


def test_cli_indexes_checked_vectors_and_searches_them_by_text(capsys, tmp_path, table, minilm, topics, hostile):
    from helpers import exact_top

    table.to_parquet(tmp_path / "mine.parquet")
    store = f"--qdrant-path {tmp_path}/store --collection mine"
    code, out = run(capsys, f"index {tmp_path}/mine.parquet --vectors-col emb --vectors-model all-MiniLM-L6-v2 "
                            f"{store}")
    assert code == 0 and out["model_check"]["passed"] and out["model_check"]["rows"] == 32, out
    code, out = run(capsys, f"search 'how to keep bread fresh' {store} --k 5")
    assert code == 0, out
    truth = exact_top(np.asarray(table["emb"].tolist()), minilm.encode(["how to keep bread fresh"]), 5)[0]
    assert [h["text"] for h in out["hits"]] == [topics.texts[i] for i in truth]
    line = f"project {tmp_path}/mine.parquet --vectors-col emb --vectors-model paraphrase-MiniLM-L3-v2"
    code, out = run(capsys, line)
    assert code == 2 and "paraphrase-MiniLM-L3-v2 does not reproduce your vectors" in out["error"], out
    hostile("CLI: project (your vectors)", "… --vectors-col emb --vectors-model paraphrase-MiniLM-L3-v2 (MiniLM "
            "vectors)", out["error"])


def test_api_embedding_with_the_named_model(tmp_path, table):
    import vecexplore as vx
    from vecexplore.encoders import L3_ID, MINILM_ID
    from vecexplore.errors import VecexploreError

    table.to_parquet(tmp_path / "mine.parquet")
    corpus = vectors.open_vectors(tmp_path / "mine.parquet")
    assert vx.embedding(corpus).model_id == "imported:mine.parquet"
    named = vx.embedding(corpus, vectors_model=MINILM_ID)
    assert named.model_id == MINILM_ID and named.info["model_check"]["min_cosine"] >= 0.99
    with pytest.raises(VecexploreError, match="does not reproduce"):
        vx.embedding(corpus, vectors_model=L3_ID)
    # ``model`` embeds the texts, as the command line's --model does: the file's own vectors are left aside
    again = vx.embedding(corpus, L3_ID, cache=False)
    assert again.model_id == L3_ID and again.texts == corpus.texts and "model_check" not in again.info


def test_search_page_checks_the_named_model_before_a_typed_query(st_vectors, topics, minilm, hostile):
    from helpers import exact_top

    frame = pd.DataFrame({"text": topics.texts[:60], "label": topics.labels[:60], "emb": list(st_vectors[:60])})
    at = upload_vectors(start("pages/search.py"), "mine.parquet", parquet_bytes(frame))
    ok(at)
    assert at.selectbox(key="vectors_model").value == "(not known: search by example)"
    at.selectbox(key="vectors_model").set_value("paraphrase-MiniLM-L3-v2").run()
    ok(at)
    hostile("Search page: the model that made these vectors", "paraphrase-MiniLM-L3-v2 for MiniLM vectors",
            said(at.error, "does not reproduce your vectors"))
    at.selectbox(key="vectors_model").set_value("all-MiniLM-L6-v2").run()
    ok(at)
    said(at.success, "all-MiniLM-L6-v2 reproduces your vectors: cosine of its vectors with yours on 32 sampled rows")
    at.text_input(key="collection").set_value("apptest-own-vectors").run()
    at.button(key="index").click().run()
    at.text_input(key="search_query").set_value("how to keep bread fresh").run()
    ok(at)
    truth = exact_top(st_vectors[:60], minilm.encode(["how to keep bread fresh"]), 10)[0]
    assert at.dataframe[1].value["text"].tolist() == [topics.texts[i] for i in truth]


# --- Compare between two vector columns of one file. ---

@pytest.fixture(scope="module")
def two_columns(topics, st_vectors):
    """The topics with two vector columns: MiniLM (sentence-transformers) and paraphrase-MiniLM-L3-v2."""
    from vecexplore.embedder import Embedder
    from vecexplore.encoders import L3_ID

    l3 = Embedder(L3_ID).vectors(topics.texts)
    return pd.DataFrame({"text": topics.texts, "label": topics.labels, "minilm": list(st_vectors), "l3": list(l3)})


def direct_comparison(frame):
    from vecexplore.embedding_set import EmbeddingSet
    from vecexplore.models.report import comparison_report

    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    return comparison_report({col: EmbeddingSet(texts, np.stack(frame[col]), col, "1", labels)
                              for col in ("minilm", "l3")}).to_dict()


def assert_same_comparison(got: dict, expected: dict):
    assert got["n"] == expected["n"] == 300 and len(got["pairs"]) == 1
    for key in ("cka", "rsa_spearman", "knn_jaccard_mean"):
        assert got["pairs"][0][key] == pytest.approx(expected["pairs"][0][key], abs=1e-3), key
    for model in ("minilm", "l3"):
        for key, value in expected["models"][model].items():
            assert got["models"][model][key] == pytest.approx(value, abs=1e-3), (model, key)


def test_two_vector_columns_compare_like_the_two_sets_built_directly(capsys, tmp_path, two_columns, hostile):
    from vecexplore.models.compare import column_sets
    from vecexplore.models.report import comparison_report

    two_columns.to_parquet(tmp_path / "two.parquet")
    expected = direct_comparison(two_columns)
    sets = column_sets("two.parquet", tmp_path / "two.parquet", ["minilm", "l3"], label_col="label")
    assert [s.model_id for s in sets.values()] == ["imported:two.parquet:minilm", "imported:two.parquet:l3"]
    assert_same_comparison(comparison_report(sets).to_dict(), expected)
    code, out = run(capsys, f"compare {tmp_path}/two.parquet --vectors-cols minilm,l3 --label-col label")
    assert code == 0, out
    assert_same_comparison(out, expected)
    for line, message in ((f"compare {tmp_path}/two.parquet --vectors-cols minilm", "at least two vector columns"),
                          (f"compare {tmp_path}/two.parquet --vectors-cols minilm,mpnet", "has no column 'mpnet'")):
        code, out = run(capsys, line)
        assert code == 2 and message in out["error"], out
        hostile("CLI: compare (your vectors)", line.replace(str(tmp_path), "…"), out["error"])


def test_compare_page_compares_two_vector_columns(two_columns):
    at = upload_vectors(start(), "two.parquet", parquet_bytes(two_columns))
    at.sidebar.selectbox(key="vec_col").set_value("minilm").run()
    at.sidebar.selectbox(key="vec_label_col").set_value("label").run()
    at.switch_page("pages/compare.py").run()
    ok(at)
    assert at.multiselect(key="compare_columns").value == ["minilm", "l3"]
    pairs = at.dataframe[1].value
    expected = direct_comparison(two_columns)["pairs"][0]
    assert pairs["cka"].iloc[0] == pytest.approx(expected["cka"], abs=1e-3)
    assert pairs["knn_jaccard_mean"].iloc[0] == pytest.approx(expected["knn_jaccard_mean"], abs=1e-3)
