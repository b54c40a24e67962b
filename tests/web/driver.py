#!/usr/bin/env python3
"""Drives a live node's web view in a real headless Chromium (Debian's
package, launched by Playwright through executable_path) the way an
analyst would, and fails on the first thing that is not as it should be.

Usage: driver.py PLAN.json   (written by tests/tests/web.rs)

The plan names the view's URL and login, the items the test published
(the one to filter to and open, with its payload file; the one whose title
carries markup; one sealed to an audience this node is not in), the
command that makes a new member join, and where screenshots go. Every
screenshot's path is printed.
"""
import json
import pathlib
import subprocess
import sys

from playwright.sync_api import expect, sync_playwright

WAIT_MS = 60_000


def main():
    plan = json.loads(pathlib.Path(sys.argv[1]).read_text())
    shots = pathlib.Path(plan["artifacts"])
    shots.mkdir(parents=True, exist_ok=True)
    base = plan["url"].rstrip("/")

    def shot(page, name):
        path = shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}", flush=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=plan["chromium"], headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(
            http_credentials={"username": plan["user"], "password": plan["password"]},
            accept_downloads=True,
            viewport={"width": 1400, "height": 900},
        )
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        # Without credentials, nothing is shown.
        anonymous = p.request.new_context()
        assert anonymous.get(base + "/").status == 401, "the view answered without a login"
        anonymous.dispose()

        # The list, every item of the test on it, the markup title as text.
        page.goto(base + "/")
        expect(page.locator("#items tbody tr")).to_have_count(plan["total"])
        xss = plan["xss"]
        xss_cell = page.locator(f'#items tr[data-id="{xss["id"]}"] td.title a')
        expect(xss_cell).to_have_text(xss["title"])
        assert page.evaluate("window.cairnXss") is None, "a title's script ran"
        shot(page, "01-items")

        # Filter to one kind and one TLP with the form.
        target = plan["target"]
        page.select_option("#kind", target["kind"])
        page.select_option("#tlp", target["tlp"])
        page.click("#apply")
        page.wait_for_url("**/?*kind=*")
        rows = page.locator("#items tbody tr")
        expect(rows).to_have_count(plan["matching"])
        for i in range(rows.count()):
            cells = rows.nth(i).locator("td")
            expect(cells.nth(1)).to_have_text(target["kind"])
            expect(cells.nth(2)).to_have_text("TLP:" + target["tlp"])
        shot(page, "02-filtered")
        # Narrowed further by a word of the title (the query API's text search).
        page.fill("#text", target["word"])
        page.click("#apply")
        page.wait_for_url("**text=*")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td.title")).to_have_text(target["title"])

        # Open the item, then download its payload.
        page.locator(f'#items tr[data-id="{target["id"]}"] td.title a').click()
        expect(page.locator("h1")).to_have_text(target["title"])
        expect(page.locator("#body")).to_have_text(target["body"])
        shot(page, "03-item")
        with page.expect_download() as download:
            page.click("#payload")
        saved = shots / "payload.bin"
        download.value.save_as(str(saved))
        want = pathlib.Path(target["payload_file"]).read_bytes()
        got = saved.read_bytes()
        assert got == want, f"downloaded {len(got)} bytes, published {len(want)} (different bytes)"
        print(f"payload: {len(got)} bytes, identical", flush=True)

        # The item whose title is markup, on its own page.
        page.goto(f'{base}/items/{xss["id"]}')
        expect(page.locator("h1")).to_have_text(xss["title"])
        assert page.evaluate("window.cairnXss") is None, "a title's script ran"
        assert page.locator("h1 script, h1 img").count() == 0, "the title became markup"
        shot(page, "04-markup-title")

        # A sealed item this node is not a recipient of: no contents, no payload.
        sealed = plan["sealed"]
        page.goto(f'{base}/items/{sealed["id"]}')
        expect(page.locator("#sealed")).to_contain_text("not in the audience")
        assert page.locator("#body").count() == 0, "a sealed item's body is shown"
        assert page.locator("#payload").count() == 0, "a sealed item's payload is offered"
        assert sealed["title"] not in page.content(), "a sealed item's title is on the page"
        refused = context.request.get(f'{base}/items/{sealed["id"]}/payload')
        assert refused.status == 403, f"sealed payload answered {refused.status}"
        assert sealed["payload_text"] not in refused.text()
        shot(page, "05-sealed")

        # The register: a new member joins while the page is open, and its
        # entry appears without a reload.
        page.goto(base + "/register")
        before = page.locator("#register-rows tr").count()
        expect(page.locator("#live-status")).to_contain_text("Live")
        page.evaluate("window.cairnSamePage = 'still here'")
        joined = subprocess.run(plan["join"], capture_output=True, text=True, timeout=120)
        assert joined.returncode == 0, f"join failed: {joined.stderr}"
        new_row = page.locator("#register-rows tr td.entity", has_text=plan["joining"])
        expect(new_row).to_have_count(1)
        expect(page.locator("#register-rows tr")).to_have_count(before + 1)
        assert page.evaluate("window.cairnSamePage") == "still here", "the page was reloaded"
        shot(page, "06-register-live")

        page.goto(base + "/members")
        expect(page.locator("#members")).to_contain_text(plan["joining"])
        shot(page, "07-members")
        page.goto(base + "/health")
        expect(page.locator("#connected")).not_to_have_text("0")
        shot(page, "08-health")

        assert not dialogs, f"a dialog opened: {dialogs}"
        browser.close()
    print("web view: every check passed", flush=True)


if __name__ == "__main__":
    main()
