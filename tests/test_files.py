"""The one reader of tables of texts (vecexplore.files.rows) and its kinds: pairs files (STS, fine-tuning, queries)
and BEIR judgements. One rule for headers (by name), repeated rows (kept and reported) and bad lines (refused with
the line)."""

import csv

import pandas as pd
import pytest

from vecexplore.errors import VecexploreError
from vecexplore.files.beir import read_beir, read_qrels
from vecexplore.files.pairs import QUERIES, SCORED, TRAINING, read_pairs
from vecexplore.files.rows import column_key, read_rows
from vecexplore.transforms.sts import sts_pairs

ROWS = [("question one", "answer one", "4.5"), ("question two", "answer two", "1"), ("question three", "answer 3", "3")]


def lines(header: str, order: tuple[int, ...], sep: str = ",") -> str:
    return "\n".join([header, *(sep.join(row[i] for i in order) for row in ROWS)]) + "\n"


# (kind, header, the column each role sits in): the same rows, written in another order under a header naming them
HEADERS = [
    (SCORED, "score,sentence2,sentence1", (2, 1, 0)),
    (SCORED, "Similarity,S2,S1", (2, 1, 0)),
    (TRAINING, "positive,anchor", (1, 0)),
    (TRAINING, "answer,question,score", (1, 0, 2)),
    (TRAINING, "negative,text,query", (1, 1, 0)),  # "text" takes the role left unnamed: the positive
    (QUERIES, "relevant_text,query", (1, 0)),
    (QUERIES, "Relevant Text,Query", (1, 0)),
]


@pytest.mark.parametrize("layout,header,order", HEADERS, ids=[f"{h[0].what}: {h[1]}" for h in HEADERS])
def test_a_header_is_read_by_name_for_each_kind(layout, header, order):
    pairs = read_pairs(lines(header, order), "named.csv", layout)
    assert pairs.anchors == tuple(r[0] for r in ROWS) and pairs.lines == (2, 3, 4)
    if "negative" not in header:
        assert pairs.positives == tuple(r[1] for r in ROWS)
    assert (pairs.scores is not None) == ("score" in header.lower() or "similarity" in header.lower())
    assert pairs.notes[0].startswith("Columns read by their header: the ")


def test_spaces_dots_and_dashes_in_column_names_do_not_matter():
    text = lines("Sentence 1,sentence.2,Score.", (0, 1, 2))
    assert [column_key(w) for w in ("Sentence 1", "sentence.2", "query-id", "relevant_text")] == \
        ["sentence1", "sentence2", "queryid", "relevanttext"]
    pairs = sts_pairs(text, "dots.csv")
    assert pairs.s1 == [r[0] for r in ROWS] and list(pairs.scores) == [4.5, 1.0, 3.0] and not pairs.notes
    judged = read_qrels("corpus id\tQuery.ID\tRelevance\nd1\tq1\t2\n", "qrels.tsv")[0]
    assert judged == {"q1": {"d1": 2.0}}


def test_qrels_header_by_name_and_positional():
    with_header = read_qrels("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\n", "qrels.tsv")[0]
    assert with_header == read_qrels("q1\td1\t1\nq2\td2\t2\n", "qrels.tsv")[0] == {"q1": {"d1": 1}, "q2": {"d2": 2}}


def test_without_a_header_columns_are_positional_and_tabs_are_sniffed():
    pairs = read_pairs("q1\ta1\tn1\nq2\ta2\tn2\n", "plain.txt")
    assert pairs.anchors == ("q1", "q2") and pairs.negatives == ("n1", "n2") and pairs.scores is None
    assert list(read_pairs("q1,a1,1\nq2,a2,0.5\n", "plain.csv").scores) == [1.0, 0.5]
    with pytest.raises(VecexploreError, match="line 2's score 'x' is not a number"):  # mostly numbers: a score
        read_pairs("q1,a1,1\nq2,a2,x\nq3,a3,2\n", "plain.csv")


def test_repeated_rows_are_kept_and_reported(hostile):
    text = "anchor,positive\nq1,a1\nq2,a2\nq1,a1\nq1,other\nq3,a3\nq3,a4\nq1,a1\n"
    pairs = read_pairs(text, "faq.csv")
    assert len(pairs) == 7 and pairs.anchors.count("q1") == 4 and pairs.lines == (2, 3, 4, 5, 6, 7, 8)
    assert pairs.notes == ("2 rows repeat an earlier row (first: line 4, as line 2); kept: each is a pair of its own.",
                           "2 anchors come with several positives (up to 2).")
    hostile("pairs file", "row 'q1,a1' three times, anchors q1 and q3 with two positives", "; ".join(pairs.notes))
    sts = sts_pairs("s1,s2,score\na,b,1\na,b,1\na,c,2\n", "sts.csv")
    assert len(sts) == 3 and sts.notes == (
        "1 row repeats an earlier row (first: line 3, as line 2); kept: each counts in the correlation as often as "
        "it is written.", "1 first sentence comes with several second sentences (up to 2).")
    queries = read_pairs("query,relevant_text\nq,t1\nq,t2\nr,t1\n", "q.csv", QUERIES)
    assert queries.notes == ("1 query comes with several relevant texts (up to 2).",)
    judged = read_beir('{"_id": "q1", "text": "hi"}\n{"_id": "q1", "text": "hi"}\n',
                       "q1\td1\t1\nq1\td1\t1\nq1\td2\t0\n")
    assert judged.qrels == {"q1": {"d1": 1.0, "d2": 0.0}} and judged.notes == (
        "1 line of queries.jsonl repeats an earlier query (first: line 2); kept: a query counts once.",
        "1 row repeats an earlier row (first: line 2, as line 1); kept: a judgement counts once.",
        "1 query comes with several judged documents (up to 2).")
    hostile("BEIR files", "a query line and a judgement repeated", "; ".join(judged.notes))


def test_a_quoted_text_over_several_lines_keeps_the_line_it_starts_on():
    rows = read_rows('a,"b\nstill b"\nc,d\n', "multi.csv")
    assert rows == [(1, ["a", "b\nstill b"]), (3, ["c", "d"])]


# (where, reader, file name, content, what the message must say)
REFUSED = [
    ("STS pairs file", SCORED, "sts.csv", "s1,s2,score\na,b,1\nc,d\ne,f,2\ng,h\n",
     "sts.csv: line 3 has a different number of fields than the first row (2, not 3) (2 such lines)"),
    ("STS pairs file", SCORED, "sts.csv", "a,b,1\nc,d,high\ne,f,n/a\n",
     "line 2's score 'high' is not a number (2 such"),
    ("STS pairs file", SCORED, "sts.csv", "just,two\n", "has 2 columns; expected 3"),
    ("STS pairs file", SCORED, "sts.csv", "first,second,score\ncat,dog,7\n",
     "line 1 looks like a header, but 'first', 'second' name no column a header may use"),
    ("pairs file", TRAINING, "pairs.csv", "anchor,positive\nq1,a1\n,a2\nq3,\n", "line 3 has an empty text (2 such"),
    ("pairs file", TRAINING, "pairs.csv", "anchor,query_id\nq,1\n", "names a query id, which a pairs file does not"),
    ("pairs file", TRAINING, "pairs.csv", "anchor,negative,score\nq,n,1\n", "names both a negative and a score"),
    ("pairs file", TRAINING, "pairs.csv", 'a,b\nc,"d\ne,f\n', "line 2 opens a quoted text that never closes"),
    ("pairs file", TRAINING, "pairs.csv", 'a,b\n"c"d,e\n', "Cannot read pairs.csv as CSV at line 2"),
    ("query file", QUERIES, "q.csv", "query,relevant_text,score\nq,t,1\n", "has 3 columns; expected 2"),
    ("query file", QUERIES, "q.csv", "query,relevant_text\n", "has a header but no pairs"),
]


@pytest.mark.parametrize("where,layout,name,text,message", REFUSED, ids=[f"{r[0]}: {r[4][:30]}" for r in REFUSED])
def test_bad_lines_are_refused_with_their_line(hostile, where, layout, name, text, message):
    with pytest.raises(VecexploreError) as err:
        read_pairs(text.encode(), name, layout)
    assert message in str(err.value), str(err.value)
    hostile(f"{where} (files.pairs)", f"{name}: {text[:60]!r}", str(err.value))


BEIR_REFUSED = [
    ('{"_id": "q1", "text": "a"}\nnot json\n{"_id": 3}\n', "q1\td1\t1\n", "line 2 is not valid JSON"),
    ('{"_id": "q1", "text": "a"}\n{"_id": 3}\n', "q1\td1\t1\n", 'line 2 is not {"_id": ..., "text": "..."} (1 such'),
    ('{"_id": "q1", "text": "a"}\n{"_id": "q1", "text": "b"}\n', "q1\td1\t1\n",
     "line 2 gives query 'q1' another text than line 1"),
    ('{"_id": "q1", "text": "a"}\n', "q1\td1\t1\nq1\td1\t0\n",
     "qrels.tsv: line 2 gives 'd1' the relevance 0 for query 'q1'; line 1 gave it 1"),
    ('{"_id": "q1", "text": "a"}\n', "query-id\tcorpus-id\tscore\nq1\td1\thigh\nq2\td2\n",
     "line 3 has a different number of fields"),
    ('{"_id": "q1", "text": "a"}\n', "q1\td1\n", "has 2 columns; expected 3"),
    ('{"_id": "q1", "text": "a"}\n', "", "qrels.tsv has no judgements"),
    ("", "q1\td1\t1\n", "queries.jsonl has no queries"),
]


@pytest.mark.parametrize("queries,qrels,message", BEIR_REFUSED, ids=[b[2][:30] for b in BEIR_REFUSED])
def test_bad_beir_lines_are_refused_with_their_line(hostile, queries, qrels, message):
    with pytest.raises(VecexploreError) as err:
        read_beir(queries.encode(), qrels.encode())
    assert message in str(err.value), str(err.value)
    hostile("BEIR files (files.beir)", f"queries {queries[:40]!r}, qrels {qrels[:40]!r}", str(err.value))


def test_not_utf8_is_refused_with_the_byte(hostile):
    with pytest.raises(VecexploreError, match="not UTF-8 text") as err:
        read_pairs(b"caf\xe9,bar,1\n", "latin1.csv", SCORED)
    hostile("pairs file (files.pairs)", "Latin-1 bytes 'caf\\xe9'", str(err.value))


def test_stsb_dev_through_the_one_reader(shared_data):
    path = shared_data / "stsb-en-dev.csv"
    frame = pd.read_csv(path, header=None, quoting=csv.QUOTE_MINIMAL, keep_default_na=False)
    pairs = sts_pairs(path.read_bytes(), path.name)
    assert len(pairs) == len(frame) == 1500 and pairs.n_out_of_range == 0
    assert list(pairs.scores) == pytest.approx(frame[2].astype(float).tolist())
    assert pairs.notes[0].startswith("2 rows repeat an earlier row")  # kept: the 1,500 rows are all there
