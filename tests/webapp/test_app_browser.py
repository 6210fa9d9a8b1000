"""The app in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium).

``playwright install`` is never called (it would download a browser): the tests launch
the system Chromium. Without it they are skipped on a workstation and fail in CI
(``CI`` set), where ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from webapp.helpers import VIABILITY, Server

sync_api = pytest.importorskip("playwright.sync_api")
# A fresh environment compiles and imports on first use (the server's first upload waits
# for its readers): assertions wait up to 60 s, not Playwright's default 5.
sync_api.expect.set_options(timeout=60_000)
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: /usr/bin/chromium is missing")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

#: Flags for a headless Chromium on a machine with no network (no background traffic).
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("app") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_server: Server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=app_server.url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # any alert() would be an XSS
    yield page
    context.close()


def _new_project(page, name: str) -> str:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.fill("#project-name", name)
    page.click("#new-project button[type=submit]")
    page.wait_for_url(re.compile(r"/projects/[0-9a-f]{16}$"))
    return str(page.url.rsplit("/", 1)[1])


def test_example_study_upload_build_run_report_table_download(
    page,
    app_server: Server,
    example_zip: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    expect = sync_api.expect
    _new_project(page, "Example study")
    # Upload: the study zip, dropped on the file input.
    page.set_input_files("#file-input", str(example_zip))
    expect(page.locator("#upload-results li.ok")).to_contain_text("study imported: 13 inputs")
    # Build: the study builder lists every input with its file; the title is the study's.
    expect(page.locator("#inputs tbody tr")).to_have_count(13)
    expect(page.locator("#project-title")).to_contain_text("NTRK-fusion cancers")
    expect(page.locator("#files tbody tr")).to_have_count(15)
    # Run, with live progress, until the page shows the finished run.
    page.click("#run")
    page.wait_for_url(re.compile(r"/runs/[0-9a-f]{16}$"))
    rid = page.url.rsplit("/", 1)[1]
    expect(page.locator("#status")).to_have_text("done", timeout=180_000)
    # Every section of the report, inside the page.
    run = httpx.get(f"{app_server.url}/api/runs/{rid}").json()
    titles = [s["title"] for s in run["summary"]["sections"]]
    assert len(titles) >= 10
    report = page.frame_locator("#report")
    for title in titles:
        expect(report.locator("section > h2", has_text=title)).to_be_visible()
    # A table: filter it in the page.
    page.click("#tables a[href$='/tables/dose_response_fits']")
    page.wait_for_url(re.compile(r"/tables/dose_response_fits$"))
    rows = page.locator("#result tbody tr")
    expect(rows.first).to_be_visible()
    shown = page.locator("#count").inner_text()
    page.fill("#filter", "G623R")
    expect(page.locator("#count")).not_to_have_text(shown)
    texts = rows.all_inner_texts()
    assert texts and all("G623R" in t for t in texts)
    # Sort by a column: click its header.
    page.click("#result th[data-column='ic50']")
    expect(page.locator("#result th[data-column='ic50']")).to_contain_text("▲")
    # Download the report.
    page.goto(f"/runs/{rid}")
    with page.expect_download() as info:
        page.click("#download-report")
    saved = tmp_path / "report.html"
    info.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and all(t in html for t in titles)
    assert page.dialogs == []


def test_bad_file_shows_its_error_in_the_page(page) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    _new_project(page, "Bad files")
    page.select_option("#kind", "dose_response")
    bad = {"name": "plate_7.tsv", "mimeType": "text/tab-separated-values",
           "buffer": b"drug\tline\tdose\tresponse\nlaro\tKM12\tten\t0.5\n"}  # fmt: skip
    page.set_input_files("#file-input", files=[bad])
    item = page.locator("#upload-results li.failed", has_text="plate_7.tsv")
    expect(item).to_be_visible()
    expect(item).to_contain_text("expected")
    expect(item).to_contain_text("found")
    expect(page.locator("#files tbody tr")).to_have_count(0)
    # A good file beside it is accepted and listed.
    page.set_input_files("#file-input", str(VIABILITY))
    expect(page.locator("#upload-results li.ok")).to_contain_text("dose_response")
    expect(page.locator("#files tbody tr")).to_have_count(1)


def test_script_in_names_is_shown_as_text(page) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    name = "<script>alert('project')</script>"
    _new_project(page, name)
    expect(page.locator("#project-title")).to_have_text(name)
    page.select_option("#kind", "dose_response")
    text = VIABILITY.read_text().replace("parental", "<img src=x onerror=alert(1)>")
    page.set_input_files("#file-input", files=[{
        "name": "<img src=y onerror=alert(2)>.tsv", "mimeType": "text/plain",
        "buffer": text.encode()}])  # fmt: skip
    expect(page.locator("#upload-results li.ok")).to_be_visible()
    expect(page.locator("#files tbody tr td").first).to_contain_text("<img src=y")
    page.click("#run")
    page.wait_for_url(re.compile(r"/runs/[0-9a-f]{16}$"))
    expect(page.locator("#status")).to_have_text("done", timeout=120_000)
    report = page.frame_locator("#report")
    expect(report.locator("td", has_text="<img src=x onerror=alert(1)>").first).to_be_visible()
    page.goto("/")
    expect(page.locator("#projects a", has_text=name)).to_be_visible()
    assert page.dialogs == []


def test_plate_layout_editor(page) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    _new_project(page, "Plate maps")
    page.click("#new-plate-map")
    page.wait_for_url(re.compile(r"/platemap$"))

    def drag(first: str, last: str) -> None:
        page.hover(f"td[data-well='{first}']")
        page.mouse.down()
        page.hover(f"td[data-well='{last}']")
        page.mouse.up()

    drag("A1", "H2")
    expect(page.locator("#selected-count")).to_contain_text("16 well(s) selected")
    page.select_option("#role", "sample")
    page.fill("#cell_line", "KM12")
    page.fill("#drug1", "larotrectinib")
    page.click("#apply")
    page.fill("#top", "1000")
    page.fill("#factor", "10")
    page.click("#dilute")
    expect(page.locator("td[data-well='A2']")).to_contain_text("100")
    drag("A3", "H3")
    page.select_option("#role", "vehicle")
    page.fill("#drug1", "")
    page.click("#apply")
    expect(page.locator("td[data-well='C3']")).to_have_class(re.compile("r-vehicle"))
    page.click("#save-map")
    expect(page.locator("#map-error")).to_be_hidden()
    expect(page.locator("#map-status")).to_contain_text(
        "24 wells: 16 sample, 8 vehicle", timeout=20_000
    )
    # Listed in the project, and opens again in the editor as saved.
    page.click("text=← Plate maps")
    link = page.locator("#files a", has_text="edit")
    expect(link).to_have_count(1)
    link.click()
    expect(page.locator("#selected-count")).to_contain_text("24 filled")
    expect(page.locator("td[data-well='B1']")).to_contain_text("larotrectinib")
    assert page.dialogs == []


def test_western_band_box_moved_changes_its_number(
    page, app_server: Server, example_zip: Path
) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    pid = _new_project(page, "Western")
    page.set_input_files("#file-input", str(example_zip))
    expect(page.locator("#upload-results li.ok")).to_contain_text("study imported")
    # Keep the western input only (a quick run): through the API, as the builder would.
    api = httpx.Client(base_url=app_server.url)
    study = api.get(f"/api/projects/{pid}").json()["study"]
    study["inputs"] = [i for i in study["inputs"] if i["kind"] == "western"]
    study["options"] = {"western": study["options"]["western"]}
    assert api.put(f"/api/projects/{pid}/study", json=study).status_code == 200
    page.reload()
    page.click("#run")
    page.wait_for_url(re.compile(r"/runs/[0-9a-f]{16}$"))
    expect(page.locator("#status")).to_have_text("done", timeout=120_000)
    page.click("#blots a")
    page.wait_for_url(re.compile(r"/western/perk_blot$"))
    box = page.locator(".roi[data-roi='1-1']")
    expect(box).to_be_visible()
    label = box.locator(".roi-label")
    before = label.inner_text()
    cell = page.locator("#boxes tr[data-roi='1-1'] td.volume")
    volume_before = cell.inner_text()
    # Drag lane 1's first box 30 image pixels up, off its band (down would overlap band 2,
    # which the editor refuses: a pixel counted twice).
    bounds = box.bounding_box()
    assert bounds is not None
    scale = page.locator("#blot").evaluate("img => img.clientWidth / img.naturalWidth")
    page.mouse.move(bounds["x"] + bounds["width"] / 2, bounds["y"] + bounds["height"] / 2)
    page.mouse.down()
    page.mouse.move(bounds["x"] + bounds["width"] / 2,
                    bounds["y"] + bounds["height"] / 2 - 30 * scale, steps=5)  # fmt: skip
    page.mouse.up()
    expect(label).to_contain_text("1/1: —")  # moved: not measured yet
    page.click("#requantify")
    expect(page.locator("#roi-status")).to_have_text("measured with these boxes", timeout=60_000)
    after = cell.inner_text()
    assert after not in ("—", volume_before), (volume_before, after)
    assert float(after) < 0.5 * float(volume_before)
    assert label.inner_text() != before
    page.click("#save-rois")
    expect(page.locator("#roi-status")).to_contain_text("linked to input perk_blot")
    assert page.dialogs == []


def test_a_tab_with_old_unsaved_edits_cannot_overwrite_another_tabs_save(
    browser,
    app_server: Server,  # type: ignore[no-untyped-def]
) -> None:
    expect = sync_api.expect
    pages = []
    for _ in range(2):
        context = browser.new_context(base_url=app_server.url)
        pages.append(context.new_page())
    a, b = pages
    pid = _new_project(a, "Two tabs")
    a.select_option("#kind", "dose_response")
    a.set_input_files("#file-input", str(VIABILITY))
    expect(a.locator("#upload-results li.ok")).to_be_visible()
    b.goto(f"/projects/{pid}")
    a.reload()
    # Tab B saves new options.
    b.fill("#options", '{"dose_response": {"model": "3pl"}}')
    b.click("#save-study")
    expect(b.locator("#study-status")).to_have_text("saved")
    # Tab A (opened before) edits, uploads a file of its own, then saves: refused.
    a.fill("#options", '{"dose_response": {"model": "2pl"}}')
    a.select_option("#kind", "attachment")
    a.set_input_files("#file-input", files=[{"name": "map.yaml", "mimeType": "text/plain",
                                             "buffer": b"wells: []\n"}])  # fmt: skip
    expect(a.locator("#upload-results li.ok")).to_be_visible()
    a.click("#save-study")
    expect(a.locator("#study-error")).to_contain_text("changed elsewhere")
    kept = httpx.get(f"{app_server.url}/api/projects/{pid}").json()["study"]["options"]
    assert kept == {"dose_response": {"model": "3pl"}}
    for page in pages:
        page.context.close()


def test_plate_editor_apply_clears_empty_fields_and_refuses_bad_numbers(page) -> None:  # type: ignore[no-untyped-def]
    expect = sync_api.expect
    _new_project(page, "Plate fields")
    page.click("#new-plate-map")
    page.click("td[data-well='A1']")
    page.fill("#drug1", "larotrectinib")
    page.fill("#conc1", "10")
    page.click("#apply")
    expect(page.locator("td[data-well='A1']")).to_contain_text("larotrectinib 10")
    page.select_option("#role", "vehicle")
    page.fill("#drug1", "")
    page.fill("#conc1", "")
    page.click("#apply")
    expect(page.locator("td[data-well='A1']")).to_have_text("vehicle")
    page.fill("#conc1", "1,5")  # a decimal comma is read as a decimal point
    page.click("#apply")
    expect(page.locator("td[data-well='A1']")).to_contain_text("1.5")
    page.fill("#conc1", "ten")
    page.click("#apply")
    expect(page.locator("#map-error")).to_contain_text("must be a number")
    expect(page.locator("td[data-well='A1']")).to_contain_text("1.5")
