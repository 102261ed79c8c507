"""AppTest tests of the Data quality page: its findings on the demo corpus, the map filter, the downloads, reviewed
marks, the finding and the hide-reviewed filter kept in the link, and a second set for leakage."""

import json

from streamlit.testing.v1 import AppTest

from conftest import ROOT
from helpers import TIMEOUT, ok, paste, said, start


def test_findings_on_the_demo_corpus_and_the_map_filter():
    at = start("pages/quality.py")
    ok(at)
    labels = {m.label for m in at.metric}
    assert {"Duplicate groups", "Likely label errors", "Leaked rows"} <= labels
    hist = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert hist["data"][0]["type"] == "histogram"
    at.radio(key="quality_show").set_value("outliers").run()
    ok(at)
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert len(spec["data"]) == 2 and len(spec["data"][1]["hovertext"]) == 50
    assert {b.proto.label for b in at.get("download_button")} >= {
        "Download every row with its scores (CSV)", "Download with one row per duplicate group (CSV)",
        "Download the corrected labels (CSV)"}


def test_leakage_against_an_uploaded_second_set():
    at = start("pages/quality.py")
    data = b"text\nThe goalkeeper saved a penalty in the final minute.\nA sentence that is nowhere else at all.\n"
    at.file_uploader(key="quality_other").set_value(("test.csv", data, "text/csv")).run()
    ok(at)
    leaked = next(m for m in at.metric if m.label == "Leaked rows")
    assert leaked.value.endswith("%")


def test_a_corpus_of_one_text_repeated_gets_a_message(hostile):
    at = paste(start("pages/quality.py"), "same text\nsame text\nSame  text")
    hostile("Data quality page", "three copies of one text", said(at.error, "same text"))


def test_reviewed_marks_the_finding_and_the_filter_stay_in_the_link(hostile):
    at = start("pages/quality.py")
    at.radio(key="quality_show").set_value("outliers").run()
    outliers = at.dataframe[1].value
    assert not outliers["reviewed"].any()
    marks = [str(i) for i in sorted(outliers["index"][:2])]
    at.session_state["quality_reviewed"] = marks  # as two ticks leave them
    at.toggle(key="quality_hide_reviewed").set_value(True).run()
    ok(at)
    assert set(at.dataframe[1].value.query("reviewed")["index"].astype(str)) == set(marks)
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert len(spec["data"][1]["hovertext"]) == 48  # the reviewed rows greyed with the rest
    link = dict(at.query_params)
    assert link["quality_reviewed"] == "|".join(marks) and link["quality_show"] == "outliers"
    assert link["quality_hide_reviewed"] == "true"

    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update(link)
    fresh.run()
    fresh.switch_page("pages/quality.py").run()
    ok(fresh)
    assert fresh.session_state["quality_reviewed"] == marks and fresh.radio(key="quality_show").value == "outliers"
    assert len(json.loads(fresh.get("plotly_chart")[1].proto.spec)["data"][1]["hovertext"]) == 48
    assert set(fresh.dataframe[1].value.query("reviewed")["index"].astype(str)) == set(marks)

    edited = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    edited.query_params.update({**link, "quality_reviewed": f"abc|99999999|{marks[0]}"})
    edited.run()
    edited.switch_page("pages/quality.py").run()
    ok(edited)
    hostile("Data quality page", "a link whose reviewed marks are not rows (abc, 99999999)",
            said(edited.caption, "not rows of this corpus"))
    assert edited.session_state["quality_reviewed"] == [marks[0]]


def test_a_link_with_a_threshold_outside_0_to_1_warns(hostile):
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update({"quality_threshold": "1.5"})
    fresh.run()
    fresh.switch_page("pages/quality.py").run()
    ok(fresh)
    hostile("Data quality page", "a link with quality_threshold=1.5", said(fresh.warning, "quality_threshold"))
    assert fresh.session_state["quality_threshold"] == 0.95
