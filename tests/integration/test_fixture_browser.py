"""The ``browser`` fixture (tests/plugins/browser.py) with Debian's headless Chromium: a page
served over real HTTP (twisted.web in the test reactor) is rendered — its server text and the
text its script computed are in the DOM; the screenshot is a PNG of the requested size whose
pixels show the page's colours; an unreachable URL and a page that never answers fail with a
clear BrowserError instead of returning an empty page."""

from __future__ import annotations

import socket

import pytest
import pytest_twisted
from twisted.internet import reactor, threads
from twisted.web import resource, server

from tests.plugins.browser import BrowserError, png_pixels, png_size
from tests.servers.proc import free_port

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>fixture page</title>
<style>
  html, body { margin: 0; background: #1e90ff; }
  #box { position: absolute; left: 0; top: 0; width: 100px; height: 50px; background: #ff0000; }
  h1 { margin-top: 80px; font: 20px sans-serif; }
</style></head>
<body><div id="box"></div><h1 id="server">Served by twisted.web</h1><p id="js"></p>
<script>document.getElementById("js").textContent = "script ran: " + (6 * 7);</script>
</body></html>
"""


class Page(resource.Resource):
    isLeaf = True

    def __init__(self):
        super().__init__()
        self.paths = []  # the browser may also ask for /favicon.ico

    def render_GET(self, request):
        self.paths.append(request.path.decode())
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return PAGE


@pytest_twisted.async_yield_fixture()
async def page_url():
    page = Page()
    port = reactor.listenTCP(0, server.Site(page), interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}/status", page
    await port.stopListening()


def near(rgb, want, tol=3):
    return all(abs(x - y) <= tol for x, y in zip(rgb, want))


@pytest_twisted.ensureDeferred
async def test_dom_has_server_text_and_script_result(browser, page_url):
    url, page = page_url
    dom = await threads.deferToThread(browser.dump_dom, url)
    assert page.paths.count("/status") == 1
    assert '<h1 id="server">Served by twisted.web</h1>' in dom
    assert '<p id="js">script ran: 42</p>' in dom  # computed by the page's script, not in the source


@pytest_twisted.ensureDeferred
async def test_screenshot_is_png_of_requested_size_with_page_colours(browser, page_url, tmp_path):
    url, _ = page_url
    path = tmp_path / "shots" / "page.png"
    data = await threads.deferToThread(browser.screenshot, url, path, width=320, height=240)
    assert path.read_bytes() == data
    assert png_size(data) == (320, 240)
    width, height, rows = png_pixels(data)
    assert (width, height, len(rows), len(rows[0])) == (320, 240, 240, 320)
    assert near(rows[10][10], (255, 0, 0)), rows[10][10]  # inside #box
    assert near(rows[230][300], (0x1E, 0x90, 0xFF)), rows[230][300]  # page background


def test_unreachable_url_fails_with_chromium_reason(browser):
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(BrowserError, match="could not load .*net::ERR_CONNECTION_REFUSED"):
        browser.dump_dom(url)
    with pytest.raises(BrowserError, match="net::ERR_CONNECTION_REFUSED"):
        browser.screenshot(url, width=200, height=100)


def test_page_that_never_answers_times_out(browser):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        with pytest.raises(BrowserError, match="timed out after 3"):
            browser.dump_dom(url, timeout=3)
