#!/usr/bin/python3
"""The page of `vidclass report`, opened in headless Chromium and used as a person would.

    /usr/bin/python3 Tests/Browser/report_test.py REPORT_DIR DOWNLOAD_DIR [SCREENSHOT_DIR]

Checks the DOM against the report's own data (data.js): every row on its page, every thumbnail
loading, the label chart and filters, sorting, the error list, corrections kept across a reload
and downloaded as CSV, the confusion matrix cells opening their clips, the timelines; and no
console error. Writes what it corrected to DOWNLOAD_DIR/expected.json for the shell script to
check against `vidclass train`. Exits non-zero on the first failure.
"""
import csv
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

report, downloads = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
shots = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
failures = 0


def check(condition, what):
    global failures
    print(("  ok: " if condition else "  FAILED: ") + what, flush=True)
    if not condition:
        failures += 1


def wait_for(predicate, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


with open(os.path.join(report, "data.js"), encoding="utf-8") as f:
    data = json.loads(f.read().removeprefix("window.VIDCLASS_REPORT = ").rstrip().removesuffix(";"))
items = data["items"]
ok_items = [i for i in items if i["status"] == "ok"]

options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--allow-file-access-from-files"]:
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
js = driver.execute_script


def console_errors():
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def click(element):
    """Clicks like a person: scrolled to the middle of the window first (the corrections bar stays at the bottom)."""
    js("arguments[0].scrollIntoView({block: 'center'})", element)
    try:
        element.click()
    except Exception:
        print("click failed at", element.location, js("return [window.innerHeight, window.scrollY, document.documentElement.scrollHeight]"))
        driver.save_screenshot("/tmp/fail.png")
        raise


def rows():
    return driver.find_elements(By.CSS_SELECTOR, "#label-rows tr.row")


def all_pages():
    """The data-path of every row over every page, from the first page on."""
    while not driver.find_element(By.ID, "page-prev").get_property("disabled"):
        click(driver.find_element(By.ID, "page-prev"))
    seen = []
    while True:
        seen += [r.get_attribute("data-path") for r in rows()]
        nxt = driver.find_element(By.ID, "page-next")
        if nxt.get_property("disabled"):
            return seen
        click(nxt)


def set_filter(element_id, value):
    element = driver.find_element(By.ID, element_id)
    if element.tag_name == "select":
        Select(element).select_by_value(value)
    else:
        element.clear()
        if value:
            element.send_keys(value)
    js("arguments[0].dispatchEvent(new Event('input'))", element)


def reset_filters():
    for element_id in ["filter-label", "filter-status"]:
        set_filter(element_id, "")
    for element_id in ["filter-min", "filter-max", "filter-text"]:
        set_filter(element_id, "")


try:
    driver.get("file://" + report + "/index.html")
    check(wait_for(lambda: js("return document.body.dataset.ready") == "true"), "the page loads from disk and draws")
    check(console_errors() == [], "no console errors on load")

    # --- label results ---
    summary = driver.find_element(By.ID, "label-summary").text
    check(summary.startswith(f"{len(items)} files"), f"summary names {len(items)} files: {summary!r}")
    check(len(rows()) == min(100, len(items)), f"first page shows {min(100, len(items))} rows")
    every = all_pages()
    check(sorted(every) == sorted(i["abs"] for i in items), f"all {len(items)} rows over {(len(items) + 99) // 100} pages, each once")
    # Every thumbnail the data names loads as a picture in the browser.
    loaded = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const srcs = window.VIDCLASS_REPORT.items.filter(i => i.thumb).map(i => i.thumb);
        Promise.all(srcs.map(s => new Promise(r => { const im = new Image(); im.onload = () => r(im.naturalWidth > 0); im.onerror = () => r(false); im.src = s; })))
          .then(results => done([srcs.length, results.filter(Boolean).length]));""")
    check(loaded[0] == len(ok_items) and loaded[1] == loaded[0], f"every labelled file has a thumbnail strip that loads ({loaded[1]}/{loaded[0]})")
    reset_filters()
    thumbs = {i["abs"]: bool(i.get("thumb")) for i in items}
    check(all(bool(r.find_elements(By.CSS_SELECTOR, "img.strip")) == thumbs[r.get_attribute("data-path")] for r in rows()),
          "each row on the page shows its strip")

    counts = {}
    for i in ok_items:
        counts[i["label"]] = counts.get(i["label"], 0) + 1
    bars = driver.find_elements(By.CSS_SELECTOR, "#label-chart g.bar")
    check(sorted(b.get_attribute("data-label") for b in bars) == sorted(counts), "the chart has a bar per label")
    label = max(counts, key=lambda l: (counts[l], l))
    set_filter("filter-label", label)
    filtered = all_pages()
    check(len(filtered) == counts[label] and all(r.get_attribute("data-label") == label for r in rows()),
          f"filter by label {label}: {len(filtered)} rows, expected {counts[label]}")
    reset_filters()
    smallest = min(counts, key=lambda l: (counts[l], l))
    click(driver.find_element(By.CSS_SELECTOR, f"#label-chart g.bar[data-label='{smallest}'] rect"))
    check(Select(driver.find_element(By.ID, "filter-label")).first_selected_option.get_attribute("value") == smallest
          and len(all_pages()) == counts[smallest], f"a click on the bar of {smallest} filters to it")
    reset_filters()
    set_filter("filter-min", "0.5")
    high = set(all_pages())
    check(high == {i["abs"] for i in ok_items if i["score"] >= 0.5}, f"score at least 0.5: {len(high)} rows")
    reset_filters()
    click(driver.find_element(By.CSS_SELECTOR, "#label-table th[data-sort='score']"))
    score_of = {i["abs"]: i["score"] for i in ok_items}
    check(score_of.get(rows()[0].get_attribute("data-path")) == max(score_of.values()), "sorting by score puts the most confident first")
    failed = [i for i in items if i["status"] != "ok"]
    set_filter("filter-status", "error")
    check(len(all_pages()) == len([i for i in items if i["status"] == "error"]), "filter by status error")
    reset_filters()
    error_rows = driver.find_elements(By.CSS_SELECTOR, "#error-table tr.error-row")
    check(len(error_rows) == len(failed) and all(i["error"] in r.text for i, r in zip(failed, error_rows)),
          f"the {len(failed)} errors are listed with their reason")
    if shots:
        js("window.scrollTo(0, document.getElementById('label-table').offsetTop - 170)")
        driver.save_screenshot(os.path.join(shots, "report-labels.png"))

    # --- corrections: two relabelled, one excluded; kept across a reload; downloaded ---
    page_rows = rows()[:3]
    targets = [r.get_attribute("data-path") for r in page_rows]
    choices = {}
    for n, row in enumerate(page_rows):
        js("arguments[0].scrollIntoView({block: 'center'})", row)
        select = Select(row.find_element(By.CSS_SELECTOR, "select.correction"))
        current = row.get_attribute("data-label")
        new = "exclude" if n == 2 else next(o.get_attribute("value") for o in select.options
                                              if o.get_attribute("value") not in ("", "exclude", current))
        select.select_by_value(new)
        choices[targets[n]] = new
    check(driver.find_element(By.ID, "correction-count").text == "3 corrections", "three corrections counted")
    check("excluded" in page_rows[2].get_attribute("class") and "corrected" in page_rows[0].get_attribute("class"),
          "corrected and excluded rows are marked")
    driver.refresh()
    wait_for(lambda: js("return document.body.dataset.ready") == "true")
    check(driver.find_element(By.ID, "correction-count").text == "3 corrections", "corrections survive a reload")
    for name in ["corrections.csv", "labels.csv"]:
        if os.path.exists(os.path.join(downloads, name)):
            os.remove(os.path.join(downloads, name))
    click(driver.find_element(By.ID, "download-corrections"))
    path = wait_for(lambda: os.path.exists(os.path.join(downloads, "corrections.csv")) and os.path.join(downloads, "corrections.csv"))
    check(bool(path), "corrections.csv downloaded")
    with open(os.path.join(downloads, "corrections.csv"), newline="", encoding="utf-8") as f:
        got = list(csv.reader(f))
    check(got[0] == ["path", "label"] and {r[0]: r[1] for r in got[1:]} == choices, f"corrections.csv holds the three corrections: {got[1:]}")
    click(driver.find_element(By.ID, "download-labels"))
    check(bool(wait_for(lambda: os.path.exists(os.path.join(downloads, "labels.csv")))), "labels.csv downloaded")
    time.sleep(0.5)
    with open(os.path.join(downloads, "labels.csv"), newline="", encoding="utf-8") as f:
        reviewed = {r[0]: r[1] for r in list(csv.reader(f))[1:]}
    expected = {i["abs"]: choices.get(i["abs"], i["label"]) for i in ok_items if choices.get(i["abs"]) != "exclude"}
    for e in data["evaluations"]:
        for c in e["clips"]:
            expected.setdefault(c["abs"], c["truth"])
    check(reviewed == expected, f"labels.csv: every labelled file with its reviewed label, the excluded one left out ({len(reviewed)} rows)")
    with open(os.path.join(downloads, "expected.json"), "w") as f:
        json.dump({"relabelled": sum(1 for v in choices.values() if v != "exclude"), "excluded": 1,
                   "reviewed_rows": len(reviewed)}, f)

    # --- evaluation ---
    for n, e in enumerate(data["evaluations"]):
        click(driver.find_element(By.ID, "tab-evaluation"))
        cells = driver.find_elements(By.CSS_SELECTOR, f"#confusion-{n} td.cell")
        check(sum(int(c.text) for c in cells) == e["count"], f"evaluation {n}: the confusion cells add up to {e['count']} clips")
        header = [th.text for th in driver.find_elements(By.CSS_SELECTOR, f"#confusion-{n} thead th")][1:]
        check(header == e["labels"], "the matrix names its classes")
        nonzero = [c for c in cells if int(c.text) > 0]
        cell = max(nonzero, key=lambda c: int(c.text))
        click(cell.find_element(By.TAG_NAME, "button"))
        opened = driver.find_elements(By.CSS_SELECTOR, f"#cell-table-{n} tr.clip")
        check(len(opened) == int(cell.text), f"a cell opens its {cell.text} clips")
        wrong = [c for c in e["clips"] if c["truth"] != c["predicted"]]
        check(len(driver.find_elements(By.CSS_SELECTOR, f"#misclassified-{n} tr.clip")) == len(wrong),
              f"{len(wrong)} misclassified clips listed")
        if shots:
            js("window.scrollTo(0, 0)")
            driver.save_screenshot(os.path.join(shots, "report-evaluation.png"))

    # --- timelines ---
    if data["timelines"]:
        click(driver.find_element(By.ID, "tab-timelines"))
        for n, t in enumerate(data["timelines"]):
            segments = driver.find_elements(By.CSS_SELECTOR, f"#track-{n} .seg")
            runs = [w[2] for k, w in enumerate(t["windows"]) if k == 0 or t["windows"][k - 1][2] != w[2]]
            check([s.get_attribute("data-label") for s in segments] == runs,
                  f"timeline {n}: a segment per run of one label, in order ({len(runs)} from {len(t['windows'])} windows)")
        if shots:
            js("window.scrollTo(0, 0)")
            driver.save_screenshot(os.path.join(shots, "report-timelines.png"))
    check(console_errors() == [], "no console errors after using the page")
finally:
    driver.quit()

print(f"browser test: {'FAILED' if failures else 'passed'} ({failures} failures)")
sys.exit(1 if failures else 0)
