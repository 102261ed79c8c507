"""AppTest tests of the Data quality page: its findings on the demo corpus, the map filter, the downloads, and a
second set for leakage."""

import json

from helpers import ok, paste, said, start


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
