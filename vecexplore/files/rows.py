"""The one way vecexplore reads a table of texts a user gives it (pairs files, relevance judgements).

Every such file is read by the same rules, whatever its kind (a :class:`Layout` says which columns the kind has):

* **encoding**: UTF-8 (a byte-order mark is allowed); anything else is refused with the first bad byte.
* **delimiter**: tab for a ``.tsv`` name or when the first line has a tab and no comma, else comma (CSV, quoted
  where a text holds the delimiter).
* **header**: the first row is a header when every field in it is a column name of :data:`HEADER_WORDS` (case,
  spaces, dots, dashes and underscores do not matter: ``Sentence 1``, ``query-id``, ``relevant_text``); its
  columns are then read by name, in any order. Without one, columns are read by position. A first row that names
  some columns but not all is refused, naming the words it does not know.
* **bad lines**: refused, never skipped: the message names the first bad line (its line in the file) and how many
  lines have the same problem.
* **repeated rows**: kept, never dropped or merged; the notes say how many rows repeat an earlier row and how many
  anchors (first-column values) come with several partners.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vecexplore.errors import VecexploreError

# A header's column names, by the role they give their column. "text" (or an empty field) names no role of its
# own: such a column takes the first text role the header leaves unnamed.
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "anchor": ("anchor", "query", "question", "sentence1", "sentence_a", "s1", "text1", "title", "word1", "w1"),
    "positive": ("positive", "answer", "document", "passage", "sentence2", "sentence_b", "s2", "text2",
                 "description", "relevant_text", "word2", "w2"),
    "negative": ("negative", "hard_negative"),
    "score": ("score", "similarity", "label", "relevance", "rel", "Human (mean)"),
    "query_id": ("query_id", "qid"),
    "doc_id": ("corpus_id", "doc_id", "document_id", "docid"),
}
LOOSE_WORDS = ("text",)


def column_key(name: str) -> str:
    """A column name as the header rule compares it: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


HEADER_WORDS: dict[str, str | None] = {column_key(w): role for role, words in ROLE_WORDS.items() for w in words}
HEADER_WORDS.update({column_key(w): None for w in LOOSE_WORDS})


def plural(noun: str, count: int) -> str:
    if count == 1:
        return noun
    return noun[:-1] + "ies" if re.search(r"[^aeiou]y$", noun) else noun + "s"


def such_lines(count: int) -> str:
    return f"{count:,} such {plural('line', count)}"


@dataclass(frozen=True)
class Layout:
    """What one kind of file holds: its columns by role, in the order a file without a header gives them."""

    what: str  # "a pairs file": the kind, as messages name it
    roles: tuple[str, ...]  # the columns every file of the kind has, in positional order
    usage: str  # one line: what each line holds
    nouns: tuple[str, str]  # what the first two columns hold, singular: ("anchor", "positive")
    repeat_effect: str  # what a repeated row does downstream
    optional: tuple[str, ...] = ()  # at most one more column: one of these roles
    numbers: frozenset[str] = frozenset({"score"})  # roles that hold numbers
    field: str = "text"  # what the other roles hold
    rows: str = "pairs"  # what a line is
    scored_nouns: tuple[str, str] | None = None  # the nouns when the file has a score column
    unnamed_ok: bool = False  # a headed file may carry columns its header leaves unnamed (a row number): left out

    def widths(self) -> tuple[int, ...]:
        return (len(self.roles), len(self.roles) + 1) if self.optional else (len(self.roles),)

    def expected(self) -> str:
        return " or ".join(map(str, self.widths()))

    def noun(self, role: str) -> str:
        """What a column of ``role`` holds, as messages say it."""
        return dict(zip(self.roles[:2], self.nouns, strict=True)).get(role, role.replace("_", " "))

    def header_help(self) -> str:
        """The names a header may give each column, by what the column holds."""
        return "; ".join(f"{self.noun(role)}: " + ", ".join(ROLE_WORDS[role]) for role in (*self.roles, *self.optional))


@dataclass(frozen=True)
class Table:
    """A file's rows read by a :class:`Layout`: each role's values (numbers for number roles), the file line of
    each row, and notes on how it was read (header, repeated rows)."""

    name: str
    values: dict[str, tuple[str, ...] | np.ndarray]
    lines: tuple[int, ...]
    notes: tuple[str, ...]


def decode_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VecexploreError(
            f"{name} is not UTF-8 text (undecodable byte 0x{data[exc.start]:02x} at position {exc.start}). "
            "Re-save it as UTF-8 and upload it again."
        ) from exc


def json_lines(content: str, name: str) -> list[tuple[int, dict]]:
    """(line number, object) of each non-blank line; lines that are not a JSON object are refused by the one rule
    for bad lines."""
    rows, bad = [], []
    for n, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append((n, " is not valid JSON", f" ({exc.msg} at column {exc.colno})"))
            continue
        if isinstance(row, dict):
            rows.append((n, row))
        else:
            bad.append((n, " is not a JSON object ({\"text\": ...})", ""))
    if bad:
        same = [(n, problem + detail) for n, problem, detail in bad if problem == bad[0][1]]
        refuse(f"Cannot read {name}", same, "fix or delete those lines")
    return rows


def delimiter_of(text: str, name: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "\t" if name.lower().endswith(".tsv") or ("\t" in first and "," not in first) else ","


def read_rows(data: bytes | str, name: str, delimiter: str | None = None) -> list[tuple[int, list[str]]]:
    """(line number, stripped fields) of every non-blank row of a CSV/TSV file; a row's line is the line it starts
    on (a quoted text may run over several)."""
    text = decode_text(data, name) if isinstance(data, bytes) else data
    reader = csv.reader(io.StringIO(text), delimiter=delimiter or delimiter_of(text, name), strict=True)
    rows, start = [], 1
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                rows.append((start, [f.strip() for f in fields]))
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise VecexploreError(f"{name}: line {start} opens a quoted text that never closes (the file ends inside "
                                  'it); close the quote, and write a quote inside a quoted text as "".') from exc
        raise VecexploreError(f"Cannot read {name} as CSV at line {reader.line_num}: {exc}; quote texts that "
                              'contain the delimiter, and write a quote inside a quoted text as "".') from exc
    return rows


def refuse(name: str, bad: Sequence[tuple[int, str]], advice: str) -> None:
    """The one rule for bad lines: refuse the file, naming the first bad line and how many there are."""
    if bad:
        raise VecexploreError(f"{name}: line {bad[0][0]}{bad[0][1]} ({such_lines(len(bad))}); {advice}.")


def _header_columns(header: list[str], layout: Layout, name: str) -> dict[str, int]:
    """The column of each role a header names; unnamed columns ("text", an empty field) fill the text roles left,
    in the layout's order."""
    advice = layout.usage
    columns: dict[str, int] = {}
    loose = []
    accepted = {*layout.roles, *layout.optional}
    for i, word in enumerate(header):
        role = HEADER_WORDS.get(column_key(word)) if word else None
        if role is None:
            loose.append(i)
        elif role not in accepted:
            raise VecexploreError(f"{name}: the header's column {i + 1} ({word!r}) names a {layout.noun(role)}, "
                                  f"which {layout.what} does not have; {advice}.")
        elif role in columns:
            raise VecexploreError(f"{name}: the header names the {layout.noun(role)} twice "
                                  f"({header[columns[role]]!r} in column {columns[role] + 1}, {word!r} in column "
                                  f"{i + 1}); {advice}.")
        else:
            columns[role] = i
    named = [role for role in layout.optional if role in columns]
    if len(named) > 1:
        raise VecexploreError(f"{name}: the header names both a {named[0]} and a {named[1]} column; {advice}.")
    fill = [r for r in (*layout.roles, *(() if named else layout.optional)) if r not in layout.numbers]
    for role in fill:
        if loose and role not in columns:
            columns[role] = loose.pop(0)
    for role in layout.roles:
        if role not in columns:
            raise VecexploreError(f"{name}: the header ({','.join(header)}) names no {layout.noun(role)} column; "
                                  f"{advice}.")
    return columns


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _positional_columns(body: list[tuple[int, list[str]]], width: int, layout: Layout) -> dict[str, int]:
    """Columns by position; a last optional column holds numbers when at least half its values are numbers."""
    columns = {role: i for i, role in enumerate(layout.roles)}
    if width > len(layout.roles):
        numeric = [r for r in layout.optional if r in layout.numbers]
        texts = [r for r in layout.optional if r not in layout.numbers]
        scored = sum(_number(f[width - 1]) is not None for _, f in body) * 2 >= len(body)
        columns[(numeric if scored and numeric else texts or numeric)[0]] = width - 1
    return columns


def _repeat_notes(anchors: Sequence[str], partners: Sequence[str], rows: Sequence[tuple[str, ...]],
                  lines: Sequence[int], layout: Layout, nouns: tuple[str, str]) -> list[str]:
    """The one rule for repeated rows: keep them, and say how many rows repeat an earlier row and how many anchors
    come with several partners."""
    notes = []
    first_line: dict[tuple[str, ...], int] = {}
    repeats = []
    for row, line in zip(rows, lines, strict=True):
        if row in first_line:
            repeats.append((line, first_line[row]))
        else:
            first_line[row] = line
    if repeats:
        count = len(repeats)
        notes.append(f"{count:,} {plural('row', count)} {'repeats' if count == 1 else 'repeat'} an earlier row "
                     f"(first: line {repeats[0][0]}, as line {repeats[0][1]}); kept: {layout.repeat_effect}.")
    found: dict[str, set[str]] = {}
    for anchor, partner in zip(anchors, partners, strict=True):
        found.setdefault(anchor, set()).add(partner)
    several = [len(p) for p in found.values() if len(p) > 1]
    if several:
        count = len(several)
        notes.append(f"{count:,} {plural(nouns[0], count)} {'comes' if count == 1 else 'come'} with several "
                     f"{plural(nouns[1], 2)} (up to {max(several)}).")
    return notes


def read_table(data: bytes | str, name: str, layout: Layout, delimiter: str | None = None) -> Table:
    """Read a file of ``layout``'s kind by the rules above; anything that cannot be used as given (no rows, a
    wrong number of columns, a line with another number of fields, an empty text, a number that is not one) is
    refused with the line to fix."""
    rows = read_rows(data, name, delimiter)
    usage = layout.usage
    if not rows:
        raise VecexploreError(f"{name} has no {layout.rows}: {usage}.")
    first = rows[0][1]
    known = [f for f in first if f and column_key(f) in HEADER_WORDS]
    has_header = bool(known) and len(known) == sum(bool(f) for f in first)
    if known and not has_header:
        unknown = [repr(f) for f in first if f and column_key(f) not in HEADER_WORDS]
        raise VecexploreError(f"{name}: line {rows[0][0]} looks like a header, but {', '.join(unknown)} "
                              f"{'names' if len(unknown) == 1 else 'name'} no column a header may use "
                              f"({layout.header_help()}). Rename {'it' if len(unknown) == 1 else 'them'}, or delete "
                              f"the line; {usage}.")
    body = rows[1:] if has_header else rows
    if not body:
        raise VecexploreError(f"{name} has a header but no {layout.rows}: {usage}.")
    width = len(first) if has_header else len(body[0][1])
    if width not in layout.widths() and not (has_header and layout.unnamed_ok and width > len(layout.roles)):
        if width == 1:
            raise VecexploreError(f"{name} has one column: {usage}.")
        raise VecexploreError(f"{name} has {width} columns; expected {layout.expected()}: {usage}.")
    refuse(name, [(line, f" has a different number of fields than the first row ({len(f)}, not {width})")
                  for line, f in body if len(f) != width], usage)
    notes = []
    if has_header:
        columns = _header_columns(first, layout, name)
        a, b = layout.roles[0], layout.roles[1]
        if [columns[a], columns[b]] != [0, 1]:
            notes.append(f"Columns read by their header: the {layout.nouns[0]} is column {columns[a] + 1} "
                         f"({first[columns[a]]!r}), the {layout.nouns[1]} column {columns[b] + 1} "
                         f"({first[columns[b]]!r}).")
    else:
        columns = _positional_columns(body, width, layout)
    texts = [i for role, i in columns.items() if role not in layout.numbers]
    refuse(name, [(line, f" has an empty {layout.field}") for line, f in body if not all(f[i] for i in texts)],
           "fill or delete those lines")
    values: dict[str, tuple[str, ...] | np.ndarray] = {}
    for role, i in columns.items():
        if role in layout.numbers:
            numbers = [_number(f[i]) for _, f in body]
            refuse(name, [(line, f"'s {role} {f[i]!r} is not a number") for (line, f), v in
                          zip(body, numbers, strict=True) if v is None], usage)
            values[role] = np.asarray(numbers, dtype=float)
        else:
            values[role] = tuple(f[i] for _, f in body)
    lines = tuple(line for line, _ in body)
    nouns = layout.scored_nouns if layout.scored_nouns and "score" in columns else layout.nouns
    ordered = sorted(columns.values())
    notes += _repeat_notes(values[layout.roles[0]], values[layout.roles[1]],
                           [tuple(f[i] for i in ordered) for _, f in body], lines, layout, nouns)
    return Table(name, values, lines, tuple(notes))
