"""AppTest tests of the Fine-tuning page: the three sources of pairs, refused inputs, and a real (small) training
run whose before/after numbers are checked against scikit-learn, then the new model in Compare."""

import json

import numpy as np
import pytest
from sklearn.metrics import label_ranking_average_precision_score
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from helpers import TIMEOUT, ok, paste, said, shown, start
from pages.ui.sidebar import OTHER_MODEL
from vecexplore.encoders import MINILM_ID, finetuned, load_encoder
from vecexplore.finetuning.tuner import LABEL_WARNING, demo_pairs, split_pairs
from vecexplore.numeric import cosine


@pytest.fixture
def own_models(tmp_path, monkeypatch):
    """Fine-tuned models in a throw-away folder, not the checkout's shared model cache."""
    root = tmp_path / "finetuned"
    monkeypatch.setattr(finetuned, "root", lambda: root)
    return root


def captions(at) -> list[str]:
    return [shown(c) for c in at.caption]


def table_with(at, column: str):
    """The first table on the page with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def fake_model(root, name: str, owner: str, shared: bool) -> str:
    """A fine-tuned model's folder with only its manifest: listed and deletable, never loaded here."""
    (root / name).mkdir(parents=True)
    manifest = {"id": finetuned.model_id(name), "name": name, "owner": owner, "shared": shared, "dims": 384,
                "base": MINILM_ID, "n_train": 10, "created": "2026-11-24T10:00:00+00:00", "description": "test",
                "version": f"finetuned(test)+{name}"}
    (root / name / finetuned.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return manifest["id"]


def test_other_sessions_private_models_are_not_seen_and_shared_ones_need_a_confirmed_delete(hostile, own_models):
    private = fake_model(own_models, "all-minilm-l6-v2-secret-notes-0badcafe-1", "0badcafe" * 4, shared=False)
    shared = fake_model(own_models, "class-model", "0badcafe" * 4, shared=True)
    at = start("pages/finetune.py")
    ok(at)
    options = at.sidebar.selectbox(key="model").options
    assert shared in options and private not in options
    assert shared in at.selectbox(key="ft_base").options and private not in at.selectbox(key="ft_base").options
    listing = table_with(at, "made by")
    assert list(listing["model"]) == [shared] and list(listing["made by"]) == ["another session"]
    assert not any("secret" in str(d.value.to_dict()) for d in at.dataframe)
    at.selectbox(key="ft_delete_model").set_value(shared).run()
    assert at.button(key="ft_delete").disabled  # another session made it: confirm first
    at.checkbox(key="ft_confirm_delete").check().run()
    at.button(key="ft_delete").click().run()
    ok(at)
    assert said(at.success, f"Deleted {shared}")
    assert [m["id"] for m in finetuned.listed()] == [private]  # the other session's private model is untouched
    assert shared not in at.sidebar.selectbox(key="model").options
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)  # a hand-made link to it
    fresh.query_params.update({**dict(at.query_params), "ft_base": private})
    fresh.run()
    fresh.switch_page("pages/finetune.py").run()
    ok(fresh)
    assert fresh.selectbox(key="ft_base").value == MINILM_ID
    hostile("Fine-tuning page: link", f"ft_base={private} (another session's private model)",
            said(fresh.warning, "is not allowed"))
    fresh.sidebar.selectbox(key="model").set_value(OTHER_MODEL).run()
    fresh.sidebar.text_input(key="model_other").set_value(private).run()  # its id, typed
    ok(fresh)
    error = said(fresh.sidebar.error, f"No fine-tuned model '{private}'")
    assert "secret" not in error.split("(shared")[1]
    hostile("Sidebar: model id", f"{private} (another session's private model)", error)


def test_pair_sources_and_refused_files(hostile, own_models):
    at = start("pages/finetune.py")
    ok(at)
    assert any("**192** training pairs · **48** held-out pairs" in c for c in captions(at))
    me = at.session_state["_session_id"][:8]
    assert at.text_input(key="ft_name").value == f"all-minilm-l6-v2-cooking-{me}-1"
    assert said(at.caption, "Private** to this session")
    at.text_input(key="ft_name").set_value("cooking-for-the-class").run()
    assert said(at.caption, "Shared**: a name you chose")
    at.radio(key="ft_source").set_value("pairs from the corpus labels").run()
    ok(at)
    assert said(at.warning, LABEL_WARNING[:40])
    assert any("**240** training pairs · **60** held-out" in c for c in captions(at))
    at.radio(key="ft_source").set_value("upload a pairs file").run()
    for name, data, message in [
        ("one.csv", b"a single text per line\nanother one\n", "has one column"),
        ("score.csv", b"s1,s2,score\n" + b"x,y,4\n" * 11 + b"u,v,n/a\n", "score 'n/a' is not a number"),
    ]:
        at.file_uploader(key="ft_upload").set_value((name, data, "text/csv")).run()
        ok(at)
        hostile("Fine-tuning page: pairs file", f"{name}: {data[:50]!r}", said(at.error, message))
    for name, data, message in [  # accepted, and the page says how it read them
        ("dup.csv", b"anchor,positive\n" + b"".join(b"q%d,a%d\n" % (i, i) for i in range(40)) + b"q1,other\n",
         "1 anchor comes with several positives (up to 2)"),
        ("reversed.csv", b"positive,anchor\n" + b"".join(b"a%d,q%d\n" % (i, i) for i in range(40)),
         "the anchor is column 2 ('anchor'), the positive column 1 ('positive')"),
    ]:
        at.file_uploader(key="ft_upload").set_value((name, data, "text/csv")).run()
        ok(at)
        assert not at.error and table_with(at, "anchor")["anchor"].str.startswith("q").all()
        hostile("Fine-tuning page: pairs file", f"{name}: {data[:50]!r}", f"accepted: {said(at.info, message)}")
    at = paste(start("pages/finetune.py"), "one\ntwo\nthree\nfour\n")
    at.radio(key="ft_source").set_value("pairs from the corpus labels").run()
    ok(at)
    hostile("Fine-tuning page", "pairs from labels with an unlabelled pasted corpus",
            said(at.error, "need a text corpus with a label column"))


def test_the_upload_path_always_has_a_name(hostile, own_models, monkeypatch):
    """Switching to an upload draws no name box until a file comes (the browser then forgets the box's value): when
    the box comes back it is set again, to the upload's suggested name; an emptied box gets the suggestion back."""
    from vecexplore.finetuning import tuner as finetune
    at = start("pages/finetune.py")
    me = at.session_state["_session_id"][:8]
    at.radio(key="ft_source").set_value("upload a pairs file").run()
    ok(at)
    assert "ft_name" not in [t.key for t in at.text_input]  # waiting for the file: no name box drawn
    data = b"".join(b"question %d,answer %d\n" % (i, i) for i in range(30))
    at.file_uploader(key="ft_upload").set_value(("my faq.csv", data, "text/csv")).run()
    ok(at)
    box = at.text_input(key="ft_name")
    assert box.value == f"all-minilm-l6-v2-my-faq-{me}-1" and box.proto.set_value  # sent to the browser again
    assert said(at.caption, "Private** to this session")
    box.set_value("").run()
    ok(at)
    assert at.text_input(key="ft_name").value == f"all-minilm-l6-v2-my-faq-{me}-1"

    def no_training(self, *args, **kwargs):
        raise finetune.VecexploreError("training skipped by the test")

    monkeypatch.setattr(finetune.FineTuner, "fit", no_training)
    at.button(key="ft_run").click().run()
    ok(at)
    assert said(at.error, "training skipped by the test") and not any("cannot name" in e.value for e in at.error)
    hostile("Fine-tuning page: model name", "upload path, the name box emptied",
            f"the suggested name comes back: {at.text_input(key='ft_name').value}")
    at.text_input(key="ft_name").set_value("faq-for-the-class").run()
    at.file_uploader(key="ft_upload").set_value(("other.csv", data, "text/csv")).run()
    assert at.text_input(key="ft_name").value == "faq-for-the-class"  # a typed name is kept


def test_bad_name_is_refused_before_training(hostile, own_models):
    at = start("pages/finetune.py")
    at.text_input(key="ft_name").set_value("my model!").run()
    at.button(key="ft_run").click().run()
    ok(at)
    hostile("Fine-tuning page: model name", "my model!", said(at.error, "cannot name a model"))
    assert not own_models.exists() or not any(own_models.iterdir())


@pytest.mark.slow
def test_fine_tune_the_demo_pairs_then_compare(own_models, minilm):
    at = start("pages/finetune.py")
    at.sidebar.selectbox(key="backend").set_value("torch").run()  # no ONNX export: this test is about the page
    at.number_input(key="ft_batch").set_value(64).run()
    at.button(key="ft_run").click().run()
    ok(at)
    me = at.session_state["_session_id"]
    tuned = f"finetuned/all-minilm-l6-v2-cooking-{me[:8]}-1"
    assert said(at.success, f"Saved {tuned}") and finetuned.manifest(tuned)["n_train"] == 192
    assert finetuned.manifest(tuned)["owner"] == me and not finetuned.manifest(tuned)["shared"]  # suggested name
    assert at.text_input(key="ft_name").value == f"all-minilm-l6-v2-cooking-{me[:8]}-2"  # the next free name
    table = table_with(at, "metric")
    assert list(table["metric"]) == ["recall@1", "recall@10", "MRR"]
    held = split_pairs(demo_pairs(), 0.2, 0).held
    truth = np.eye(len(held))
    for encoder, column in ((minilm, "before"), (load_encoder(tuned, backend="torch"), "after")):
        scores = cosine(encoder.encode(list(held.anchors))[:, None], encoder.encode(list(held.positives))[None])
        mrr = label_ranking_average_precision_score(truth, scores)
        assert table.loc[table["metric"] == "MRR", column].iloc[0] == pytest.approx(round(mrr, 3), abs=1e-3)
    assert said([*at.success, *at.info, *at.error], "held-out MRR")  # the verdict
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 2  # the loss curve and the moved-points map
    moved = {t["name"]: t for t in charts[1]["data"]}
    assert set(moved) == {"moved", "before (base)", "after (fine-tuned, aligned)"}
    assert len(moved["after (fine-tuned, aligned)"]["hovertext"]) == 300  # the demo topics corpus
    worst = table_with(at, "jaccard")
    assert len(worst) == 10 and worst["jaccard"].is_monotonic_increasing
    assert tuned in at.sidebar.selectbox(key="model").options
    at.switch_page("pages/compare.py")
    at.run()
    ok(at)
    assert at.multiselect(key="compare_models").value == [MINILM_ID, tuned]
    assert list(at.dataframe[0].value["model"]) == [MINILM_ID, tuned]


def test_settings_round_trip_through_the_link(own_models):
    settings = {"ft_source": "pairs from the corpus labels", "ft_test_share": 0.3, "ft_seed": 7, "ft_epochs": 2,
                "ft_batch": 16, "ft_lr": 1e-4, "ft_hard": True, "ft_matryoshka": True}
    at = start("pages/finetune.py")
    for key, value in settings.items():
        at.session_state[key] = value
    at.run()
    ok(at)
    link = dict(at.query_params)
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update(link)
    fresh.run()
    fresh.switch_page("pages/finetune.py").run()
    ok(fresh)
    assert {key: fresh.session_state[key] for key in settings} == settings
    assert any("**210** training pairs · **90** held-out" in c for c in captions(fresh))  # 30% of the labelled texts
