"""Every page's main settings live in the URL: a page writes them there, and a link opened in a fresh session
restores them."""

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from helpers import TIMEOUT, ok, start

PAGES = {
    "pages/isotropy.py": {"transform": "whiten", "whiten_k": 64},
    "pages/analogies.py": {"word_a": "man", "word_b": "king", "word_c": "woman", "method_analogy": "3cosmul"},
    "pages/search.py": {"search_k": 5, "hybrid": True, "exact": True, "search_query": "bread <script>"},
    "pages/compare.py": {"compare_k": 5, "compare_method": "pca", "translate_method": "procrustes"},
    "pages/shift.py": {"shift_perm": 300, "shift_seed": 7},
}


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_round_trips_through_its_link(page):
    at = start(page)
    for key, value in PAGES[page].items():
        at.session_state[key] = value
    at.run()
    ok(at)
    link = dict(at.query_params)
    assert {k: link[k] for k in PAGES[page]} == {k: str(v).lower() if isinstance(v, bool) else str(v)
                                                 for k, v in PAGES[page].items()}
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update(link)
    fresh.run()
    fresh.switch_page(page).run()
    ok(fresh)
    for key, value in PAGES[page].items():
        assert fresh.session_state[key] == value, key


def test_a_model_with_fewer_dims_clamps_a_linked_whitening_k():
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params.update({"model": "glove-6B-50d", "transform": "whiten", "whiten_k": "300"})
    fresh.run()
    fresh.switch_page("pages/isotropy.py").run()
    ok(fresh)
    assert fresh.session_state["whiten_k"] == 50
