"""A Streamlit session driven over the app's own websocket protocol, without a browser.

It does what the frontend does: sends ``BackMsg.rerun_script`` with the widget states, and reads the
``ForwardMsg`` deltas a script run sends back until ``script_finished``. Widgets are found by their ``key``
(Streamlit ends a keyed widget's id with ``-<key>``), pages by their URL path. Used by ``bench/load.py`` so that
the load on the server is measured, not the cost of rendering 20 browser tabs on the same two cores.
"""

from __future__ import annotations

import io
import json

import pyarrow as pa
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState


class ProtocolSession:
    """One user of the app. ``await run(...)`` performs one interaction and returns the elements it drew."""

    def __init__(self, url: str, query: str = "") -> None:
        self.url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.query = query  # the address bar's query string, sent with every run (a shared link's settings)
        self.page_name = ""  # a page asked for by its URL path, before its hash is known
        self.widgets: dict[str, tuple[str, str]] = {}  # key -> (widget id, element type)
        self.states: dict[str, WidgetState] = {}  # widget id -> last value sent
        self.pages: dict[str, str] = {}  # url path -> page script hash
        self.page_hash = ""
        self.elements: list[tuple[str, object]] = []  # (element type, proto) of the last run

    async def __aenter__(self) -> ProtocolSession:
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=2**28,
                                           open_timeout=60, ping_interval=None)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    def _state(self, key: str) -> WidgetState:
        if key not in self.widgets:
            raise KeyError(f"no widget with key {key!r} on the page (have: {sorted(self.widgets)})")
        state = WidgetState(id=self.widgets[key][0])
        return state

    def set_text(self, key: str, text: str) -> None:
        state = self._state(key)
        state.string_value = text
        self.states[state.id] = state

    set_choice = set_text  # radio and select box send the chosen option's label

    def set_bool(self, key: str, value: bool) -> None:
        state = self._state(key)
        state.bool_value = value
        self.states[state.id] = state

    def set_int(self, key: str, value: int) -> None:
        state = self._state(key)
        state.int_value = value
        self.states[state.id] = state

    async def click(self, key: str, timeout: float) -> list[tuple[str, object]]:
        """Press a button: a trigger sent with this run only."""
        state = self._state(key)
        state.trigger_value = True
        return await self.run(timeout, extra=[state])

    async def open_link(self, path: str, query: str, timeout: float) -> list[tuple[str, object]]:
        """Open ``/path?query`` as the first run of this session, as a browser opening a shared link does."""
        self.query, self.page_name, self.page_hash = query, path, ""
        try:
            return await self.run(timeout)
        finally:
            self.page_name, self.page_hash = "", self.pages.get(path, "")

    async def open(self, path: str, timeout: float) -> list[tuple[str, object]]:
        """Go to the page at ``path`` ('' for the default page)."""
        self.page_hash = self.pages.get(path, "") if path else ""
        if path and not self.page_hash:
            raise KeyError(f"no page {path!r} (have: {sorted(self.pages)})")
        return await self.run(timeout)

    async def run(self, timeout: float, extra: list[WidgetState] = ()) -> list[tuple[str, object]]:
        """Rerun the script with the current widget states; wait for the run to finish."""
        import asyncio

        msg = BackMsg()
        state = msg.rerun_script
        state.page_script_hash = self.page_hash
        state.page_name = self.page_name
        state.query_string = self.query
        state.widget_states.widgets.extend([*self.states.values(), *extra])
        await self.ws.send(msg.SerializeToString())
        self.elements = []
        async with asyncio.timeout(timeout):
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(await self.ws.recv())
                kind = fwd.WhichOneof("type")
                if kind == "navigation":
                    self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
                elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    self._element(fwd.delta.new_element)
                elif kind == "script_finished":
                    if fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                        return self.elements
                    if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        continue

    def _element(self, element) -> None:
        kind = element.WhichOneof("type")
        proto = getattr(element, kind)
        self.elements.append((kind, proto))
        widget_id = getattr(proto, "id", "")
        if widget_id.startswith("$$ID-"):
            self.widgets[widget_id.rsplit("-", 1)[1]] = (widget_id, kind)

    # --- reading what was drawn ---

    def texts(self, kind: str) -> list[str]:
        """The bodies of the elements of one kind (``markdown`` includes captions; ``alert`` error/info...)."""
        return [p.body for k, p in self.elements if k == kind]

    def errors(self) -> list[str]:
        out = [p.message for k, p in self.elements if k == "exception"]
        return out + [p.body for k, p in self.elements if k == "alert" and p.format == p.ERROR]

    def tables(self) -> list[list[dict]]:
        """Every dataframe drawn, as rows."""
        out = []
        for kind, proto in self.elements:
            if kind == "dataframe" and proto.arrow_data.data:  # small tables come whole (large ones lazily)
                out.append(pa.ipc.open_stream(io.BytesIO(proto.arrow_data.data)).read_all().to_pylist())
        return out

    def figures(self) -> list[dict]:
        return [json.loads(p.spec) for k, p in self.elements if k == "plotly_chart"]
