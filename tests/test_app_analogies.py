"""AppTest tests of the Analogies page."""

import json

import pytest

from helpers import metric, ok, said, shown, start
from vecexplore.words.analogy import WordSpace, evaluate_analogies, shipped_analogies


def glove_page():
    at = start("pages/analogies.py")
    at.sidebar.selectbox(key="model").set_value("glove-6B-50d").run()
    ok(at)
    return at


def test_king_man_woman_with_picture_and_tables():
    at = glove_page()
    assert metric(at, "man : king :: woman :") == "queen"
    first = at.dataframe[0].value
    assert first["word"].iloc[0] == "queen" and len(first) == 10
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {t.get("name") for t in spec["data"]}
    assert {"a: man", "b: king", "c: woman", "answer: queen", "b − a + c"} <= names
    assert len(spec["layout"]["annotations"]) == 2  # arrows a → b and c → answer
    assert at.dataframe[1].value["word"].iloc[0] == "rome"  # paris - france + italy
    bars = json.loads(at.get("plotly_chart")[1].proto.spec)["data"][0]
    assert set(bars["y"]) == {"nurse", "doctor", "engineer", "teacher", "dancer", "soldier", "mother", "father"}
    assert "100,000" in shown(at.caption[0])


def test_presets_and_methods():
    at = glove_page()
    at.selectbox(key="preset").set_value("capitals: france → paris, italy → ?").run()
    ok(at)
    assert [at.text_input(key=k).value for k in ("word_a", "word_b", "word_c")] == ["france", "paris", "italy"]
    assert metric(at, "france : paris :: italy :") == "rome"
    at.radio(key="method_analogy").set_value("3cosmul").run()
    ok(at)
    assert metric(at, "france : paris :: italy :") == "rome"


@pytest.mark.parametrize("words,message", [
    (("man", "kng", "woman"), "did you mean"),
    (("king", "king", "woman"), "king is repeated"),
    (("man", "", "woman"), "missing: b"),
])
def test_bad_analogy_input(words, message, hostile):
    at = glove_page()
    for key, value in zip(("word_a", "word_b", "word_c"), words, strict=True):
        at.text_input(key=key).set_value(value)
    at.run()
    ok(at)
    hostile("Analogies page: a is to b as c", " : ".join(words) or "(empty)", said(at.error, message))


def test_bad_expression_and_direction(hostile):
    at = glove_page()
    at.text_input(key="expression").set_value("king + - man").run()
    ok(at)
    hostile("Analogies page: free-form arithmetic", "king + - man", said(at.error, "two operators"))
    at = glove_page()
    at.text_area(key="pairs").set_value("he zzqxv").run()
    ok(at)
    hostile("Analogies page: Directions", "pair 'he zzqxv' (unknown word)", said(at.error, "'zzqxv'"))


def test_how_often_does_it_work(glove):
    at = glove_page()
    at.button(key="run_eval").click().run()
    ok(at)
    expected = evaluate_analogies(WordSpace.from_encoder(glove), shipped_analogies())
    assert metric(at, "Accuracy") == f"{expected.overall:.1%}"
    assert metric(at, "Answered") == "738" and metric(at, "Skipped (unknown words)") == "0"
    table = at.dataframe[-1].value
    assert dict(zip(table["section"], table["accuracy"], strict=True)) == pytest.approx(expected.sections)


def test_uploaded_analogy_files(hostile):
    at = glove_page()
    at.radio(key="eval_source").set_value("upload a Google-format file").run()
    at.button(key="run_eval").click().run()
    hostile("Analogies page: How often does this work?", "Run without uploading a file",
            said(at.error, "Upload an analogy file first"))
    at = glove_page()
    at.radio(key="eval_source").set_value("upload a Google-format file").run()
    data = b": capitals\nfrance paris italy rome\nnot a question\nfrance paris zzqxv rome\n"
    at.file_uploader(key="eval_file").set_value(("q.txt", data, "text/plain")).run()
    at.button(key="run_eval").click().run()
    ok(at)
    assert metric(at, "Accuracy") == "100.0%" and metric(at, "Skipped (unknown words)") == "1"
    assert any("1 malformed lines" in shown(w) for w in at.warning)
    at = glove_page()
    at.radio(key="eval_source").set_value("upload a Google-format file").run()
    at.file_uploader(key="eval_file").set_value(("q.txt", ": s\ncaf\xe9 a b c\n".encode("latin-1"), "text/plain"))
    at.run()
    at.button(key="run_eval").click().run()
    hostile("Analogies page: How often does this work?", "a Latin-1 analogy file", said(at.error, "not UTF-8"))


def test_sentence_model_uses_a_word_list():
    at = start("pages/analogies.py")  # the sidebar's default model is MiniLM
    ok(at)
    assert any("has no word vocabulary" in shown(i) for i in at.info)
    assert "shipped word list" in shown(at.caption[0])
    at.radio(key="vocab_source").set_value("my words").run()
    at.text_area(key="my_words").set_value("cat dog kitten puppy car").run()
    at.text_input(key="word_a").set_value("dog")
    at.text_input(key="word_b").set_value("puppy")
    at.text_input(key="word_c").set_value("cat").run()
    ok(at)
    assert metric(at, "dog : puppy :: cat :") == "kitten"
    at.button[0].click().run()  # "Use glove-6B-50d"
    ok(at)
    assert at.sidebar.selectbox(key="model").value == "glove-6B-50d"


def test_one_section_error_does_not_hide_the_others():
    at = glove_page()
    at.text_input(key="expression").set_value("paris +").run()
    ok(at)
    assert any("ends with an operator" in shown(e) for e in at.error)
    assert any("How often does this work?" in shown(h) for h in at.header)
    assert len(at.get("plotly_chart")) == 2  # the parallelogram and the direction chart still drawn


def test_first_visit_with_the_default_model_shows_no_error(hostile):
    """The default direction words are in the shipped list; words outside it are left off the axis, said once."""
    at = start("pages/analogies.py")
    ok(at)
    assert not at.error, [shown(e) for e in at.error]
    bars = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"][0]
    assert {"engineer", "dancer", "soldier"} <= set(bars["y"])
    at.text_area(key="direction_words").set_value("nurse qwertyzzz soldier").run()
    ok(at)
    notice = next(shown(i) for i in at.info if "left off the axis" in shown(i))
    assert "qwertyzzz" in notice and not at.error
    hostile("Analogies page: Directions", "words to place: 'nurse qwertyzzz soldier' (one unknown)", notice)
    at.text_area(key="pairs").set_value("he she\nman woman king").run()
    message = next(shown(e) for e in at.error)
    assert "Line 2" in message and "two words" in message
    hostile("Analogies page: Directions", "pairs 'he she / man woman king' (three words on a line)", message)
