"""Real-browser test of the Fine-tuning lab: fine-tune MiniLM on the demo pairs in a running server, read the
before/after table and the moved-points map, then open the new model in Compare (fixtures and helpers from
test_browser.py; skipped with them where no Chromium is installed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_browser import SLOW, browser, open_page, page, settled, shot, streamlit_server  # noqa: F401  (fixtures)

from conftest import MODELS

pytestmark = pytest.mark.browser


def private_models(home: Path) -> None:
    """``home/models`` with the checkout's shared exports linked in one by one: the fine-tuned model and its ONNX
    export stay in this server's throw-away home instead of the shared cache."""
    MODELS.mkdir(parents=True, exist_ok=True)
    onnx = home / "models" / "onnx"
    onnx.mkdir(parents=True)
    for entry in MODELS.iterdir():
        if entry.name == "onnx":
            for export in entry.iterdir():
                (onnx / export.name).symlink_to(export, target_is_directory=True)
        elif entry.name != "finetuned":
            (home / "models" / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from streamlit_server(tmp_path_factory, private_models, warmup=False)


def test_fine_tune_demo_pairs_then_compare(server, page):  # noqa: F811  (the page fixture)
    open_page(page, server, "Fine-tuning")
    page.get_by_text("192 training pairs").first.wait_for()
    settled(page)
    name = page.get_by_label("Name of the new model", exact=True).input_value()
    assert re.fullmatch(r"all-minilm-l6-v2-cooking-[0-9a-f]{8}-1", name)  # the session's own: private
    page.get_by_text("Private to this session").first.wait_for()
    page.get_by_role("button", name="Fine-tune").click()  # first cancelled: nothing is saved
    page.get_by_text(re.compile(r"Training step \d+ / 6")).first.wait_for(timeout=SLOW)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Fine-tuning was cancelled: nothing was saved.").wait_for()
    settled(page)
    assert page.get_by_text("Before / after").count() == 0
    shot(page, "finetune-cancelled")
    page.get_by_role("button", name="Fine-tune").click()
    page.get_by_text(re.compile(r"Training step \d+ / 6")).first.wait_for(timeout=SLOW)
    shot(page, "finetune-training")
    page.get_by_text(f"Saved finetuned/{name}").wait_for(timeout=SLOW)
    page.get_by_text("held-out MRR").first.wait_for()
    settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    moved = page.locator(".js-plotly-plot").nth(1)
    moved.locator(".legendtext", has_text="after (fine-tuned, aligned)").wait_for()
    assert page.get_by_text("Texts whose neighbours changed most").count() == 1
    table = page.locator('[data-testid="stDataFrame"]').nth(1)
    table.scroll_into_view_if_needed()
    shot(page, "finetune-before-after", full_page=True)
    shot(moved, "finetune-moved-map")

    page.get_by_role("link", name="Compare the base and the fine-tuned model side by side").click()
    page.get_by_text("Where the models disagree most").wait_for(timeout=SLOW)
    settled(page)
    chosen = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Models (two or more)")
    assert "all-MiniLM-L6-v2" in chosen.inner_text() and f"finetuned/{name}" in chosen.inner_text()
    assert page.locator(".js-plotly-plot").count() == 3
    shot(page, "finetune-compare")
