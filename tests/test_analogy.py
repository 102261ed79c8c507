"""Word arithmetic against gensim (the reference implementation) on the same vectors and vocabulary."""

import numpy as np
import pytest
from gensim.models import KeyedVectors

from vecexplore.errors import VecexploreError
from vecexplore.files.words import read_analogies, read_word_pairs
from vecexplore.words.analogy import (
    ADD,
    MUL,
    WordSpace,
    evaluate_analogies,
    parse_expression,
    shipped_analogies,
    word_similarity,
)

N = 30_000  # vocabulary restriction for the comparisons: gensim's most_similar_cosmul ignores restrict_vocab


@pytest.fixture(scope="module")
def space(glove):
    return WordSpace.from_encoder(glove, restrict_vocab=N)


@pytest.fixture(scope="module")
def kv(glove):
    model = KeyedVectors(vector_size=50)
    model.add_vectors(glove.vocab_[:N], glove.vectors_[:N])
    return model


def test_king_man_woman_is_queen(glove):
    space = WordSpace.from_encoder(glove)  # default: 100,000 most frequent words
    assert len(space) == 100_000
    for method in (ADD, MUL):
        assert space.analogy("man", "king", "woman", method=method)[0][0] == "queen"


QUERIES = [("man", "king", "woman"), ("france", "paris", "italy"), ("walk", "walked", "swim"),
           ("good", "better", "bad"), ("car", "cars", "child")]


@pytest.mark.parametrize("a,b,c", QUERIES)
def test_3cosadd_equals_gensim_most_similar(space, kv, a, b, c):
    ours = space.analogy(a, b, c, method=ADD, k=5)
    ref = kv.most_similar(positive=[b, c], negative=[a], topn=5)
    assert [w for w, _ in ours] == [w for w, _ in ref]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in ref], atol=1e-3)


@pytest.mark.parametrize("a,b,c", QUERIES)
def test_3cosmul_equals_gensim_most_similar_cosmul(space, kv, a, b, c):
    ours = space.analogy(a, b, c, method=MUL, k=5, epsilon=1e-6)  # gensim's epsilon
    ref = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=5)
    assert [w for w, _ in ours] == [w for w, _ in ref]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in ref], atol=1e-3)


def test_3cosmul_levy_goldberg_formula(space):
    V = space.vectors
    a, b, c = (space.index_[w] for w in ("man", "king", "woman"))
    shifted = lambda i: (1 + V @ V[i]) / 2  # noqa: E731
    scores = shifted(b) * shifted(c) / (shifted(a) + 0.001)
    scores[[a, b, c]] = -np.inf
    best = np.argsort(-scores)[:3]
    ours = space.analogy("man", "king", "woman", method=MUL, k=3)
    assert [w for w, _ in ours] == [space.words[i] for i in best]
    np.testing.assert_allclose([s for _, s in ours], scores[best], atol=1e-3)


def test_free_form_arithmetic_and_neighbours(space, kv):
    positive, negative = parse_expression("paris - france + italy")
    assert (positive, negative) == (["paris", "italy"], ["france"])
    ours = space.combine(positive, negative, k=5)
    ref = kv.most_similar(positive=positive, negative=negative, topn=5)
    assert [w for w, _ in ours] == [w for w, _ in ref] and ours[0][0] == "rome"
    four = space.combine(["king", "woman", "girl"], ["man", "boy"], k=3)
    assert [w for w, _ in four] == [w for w, _ in kv.most_similar(["king", "woman", "girl"], ["man", "boy"], topn=3)]
    near = space.neighbors("frog", k=5)
    assert [w for w, _ in near] == [w for w, _ in kv.most_similar("frog", topn=5)]


@pytest.mark.parametrize("expr,message", [
    ("", "Type an expression"), ("king + - man", "two operators"), ("king man", "put \\+ or - between"),
    ("king +", "ends with an operator"),
])
def test_expression_errors(expr, message):
    with pytest.raises(VecexploreError, match=message):
        parse_expression(expr)
    assert parse_expression("-man + king") == (["king"], ["man"])
    assert parse_expression("king−man+woman") == (["king", "woman"], ["man"])


def test_bad_words(space):
    with pytest.raises(VecexploreError, match="'kng' \\(did you mean .*king"):
        space.analogy("man", "kng", "woman")
    with pytest.raises(VecexploreError, match="king is repeated"):
        space.analogy("king", "king", "woman")
    with pytest.raises(VecexploreError, match="missing: b"):
        space.analogy("man", " ", "woman")
    with pytest.raises(VecexploreError, match="Unknown method"):
        space.analogy("man", "king", "woman", method="3cosavg")


def test_direction_and_projection(space):
    pairs = [("he", "she"), ("man", "woman"), ("king", "queen")]
    V = space.vectors
    diff = np.mean([V[space.index_[b]] - V[space.index_[a]] for a, b in pairs], axis=0)
    expected = diff / np.linalg.norm(diff)
    direction = space.direction(pairs)
    np.testing.assert_allclose(direction, expected, atol=1e-6)
    words = ["nurse", "engineer", "mother", "father"]
    proj = space.project(words, direction)
    np.testing.assert_allclose(proj, [V[space.index_[w]] @ expected for w in words], atol=1e-6)
    assert proj[2] > proj[3]  # mother lies further along he→she than father
    with pytest.raises(VecexploreError, match="at least one word pair"):
        space.direction([])


def _google_subset(shared_data, per_section: int = 40) -> list[str]:
    lines, count = [], 0
    for line in (shared_data / "questions-words.txt").read_text().splitlines():
        if line.startswith(":"):
            lines.append(line)
            count = 0
        elif count < per_section:
            lines.append(line)
            count += 1
    return lines


def _gensim_eval(kv, path, restrict):
    score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=restrict)
    acc = {s["section"]: len(s["correct"]) / max(1, len(s["correct"]) + len(s["incorrect"])) for s in sections}
    return score, acc


def test_evaluation_equals_gensim_on_the_shipped_file(space, kv, tmp_path):
    from importlib import resources

    path = tmp_path / "demo.txt"
    path.write_text(resources.files("vecexplore.data").joinpath("demo_analogies.txt").read_text())
    report = evaluate_analogies(space, shipped_analogies())
    score, acc = _gensim_eval(kv, path, N)
    assert report.overall == pytest.approx(score, abs=1e-9)
    for name, value in report.sections.items():
        assert value == pytest.approx(acc[name], abs=1e-9)
    assert report.n_questions == 738 and report.n_malformed == 0


def test_evaluation_equals_gensim_on_google_sample(space, kv, shared_data, tmp_path):
    lines = _google_subset(shared_data)
    path = tmp_path / "google.txt"
    path.write_text("\n".join(lines) + "\n")
    report = evaluate_analogies(space, read_analogies(lines), batch=97, vocab_chunk=1000)
    score, acc = _gensim_eval(kv, path, N)
    assert report.overall == pytest.approx(score, abs=1e-9)
    assert report.sections == pytest.approx({k: v for k, v in acc.items() if k != "Total accuracy"}, abs=1e-9)
    skipped = sum(1 for line in lines if not line.startswith(":") and
                  any(w.lower() not in space.index_ for w in line.split()))
    assert report.n_skipped == skipped and report.n_skipped > 0


def test_evaluation_3cosmul_equals_gensim_per_question(space, kv):
    data = shipped_analogies()
    report = evaluate_analogies(space, data, method=MUL, epsilon=1e-6)
    for q, predicted in list(zip(data.questions, report.predictions, strict=True))[::37]:
        _, a, b, c, _ = q
        assert predicted == kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0]


def test_analogy_file_with_bad_lines():
    data = read_analogies(["a b c d", ": sec", "man king woman queen", "too few words", "", "x y z w extra"])
    assert data.n_malformed == 3 and len(data.questions) == 1
    with pytest.raises(VecexploreError, match="No analogy questions"):
        read_analogies(["just text"])


def test_word_similarity_equals_gensim(space, kv, tmp_path):
    pairs = [("old", "new", 0.0), ("smart", "intelligent", 9.2), ("hard", "difficult", 8.8),
             ("happy", "cheerful", 9.5), ("cat", "dog", 5.0), ("car", "banana", 0.2), ("zzqxv", "cat", 3.0)]
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs))
    ours = word_similarity(space, read_word_pairs(path.read_text()))
    pearson, spearman, oov = kv.evaluate_word_pairs(str(path), restrict_vocab=N)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-3)
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-3)
    assert 1 - ours.coverage == pytest.approx(oov / 100, abs=1e-9)


def test_simlex(space, kv, shared_data, tmp_path):
    text = (shared_data / "simlex999.csv").read_text()
    pairs = read_word_pairs(text)
    assert len(pairs) == 999
    path = tmp_path / "simlex.tsv"
    path.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs))
    ours = word_similarity(space, pairs)
    pearson, spearman, _ = kv.evaluate_word_pairs(str(path), restrict_vocab=N)
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-3)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-3)


def test_word_pairs_follow_the_one_row_rule():
    """Headers by name (SimLex's row-number column left out), bad lines refused with the line, repeats kept."""
    pairs = read_word_pairs(",word1,word2,similarity\n0,old,new,1.58\n1,Smart,intelligent,9.2\n2,old,new,1.58\n")
    assert pairs.pairs == [("old", "new", 1.58), ("smart", "intelligent", 9.2), ("old", "new", 1.58)]
    assert any("repeats an earlier row" in n for n in pairs.notes)
    assert read_word_pairs("cat\tdog\t5\n").pairs == [("cat", "dog", 5.0)]
    assert read_word_pairs("Word 1,Word 2,Human (mean)\nlove,sex,6.77\n").pairs == [("love", "sex", 6.77)]  # WordSim
    with pytest.raises(VecexploreError, match="line 3's score 'high' is not a number"):
        read_word_pairs("cat,dog,5\ncar,bus,6\nsun,moon,high\n", "w.csv")
    with pytest.raises(VecexploreError, match="line 2 has a different number of fields"):
        read_word_pairs("cat,dog,5\ncar,bus\n", "w.csv")
    with pytest.raises(VecexploreError, match="not UTF-8"):
        read_word_pairs(b"cat,dog,5\n\xff,x,1\n", "w.csv")


def test_sentence_model_uses_a_word_list(minilm):
    space = WordSpace.from_encoder(minilm)
    assert "no word vocabulary" in space.note and "shipped word list" in space.note
    assert space.analogy("man", "king", "woman", k=3)  # answers come from the word list
    custom = WordSpace.from_encoder(minilm, words=["Cat", "dog", "kitten", "puppy", "car"])
    assert custom.words == ["cat", "dog", "kitten", "puppy", "car"]
    assert custom.analogy("dog", "puppy", "cat", k=1)[0][0] == "kitten"
    with pytest.raises(VecexploreError, match="word list is empty"):
        WordSpace.from_encoder(minilm, words=["  "])
