#!/usr/bin/python3
"""A report of 10,000 rows in headless Chromium: it draws, pages and filters every row, and says
how long each took (printed, not asserted: the machine is shared).

    /usr/bin/python3 Tests/Browser/report_large_test.py REPORT_DIR
"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

report = os.path.abspath(sys.argv[1])
options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
failures = 0


def check(condition, what):
    global failures
    print(("  ok: " if condition else "  FAILED: ") + what, flush=True)
    failures += 0 if condition else 1


try:
    driver.get("file://" + report + "/index.html")
    load = driver.execute_script("return performance.now()")
    check(driver.execute_script("return document.body.dataset.ready") == "true", f"10,000 rows: the page is ready ({load:.0f} ms after navigation)")
    total = driver.execute_script("return window.VIDCLASS_REPORT.items.length")
    check(total == 10000, "all 10,000 records are in the data")
    check(len(driver.find_elements("css selector", "#label-rows tr.row")) == 100, "one page of 100 rows is drawn")
    timing = driver.execute_script("""
        const t0 = performance.now();
        const select = document.getElementById('filter-label');
        select.value = 'unclear'; select.dispatchEvent(new Event('input'));
        const t1 = performance.now();
        const matches = document.getElementById('match-count').textContent;
        document.querySelector("#label-table th[data-sort='score']").click();
        const t2 = performance.now();
        const last = document.getElementById('page-next'); let pages = 1;
        while (!last.disabled) { last.click(); pages++; }
        const t3 = performance.now();
        return [t1 - t0, t2 - t1, t3 - t2, matches, pages, document.querySelectorAll('#label-rows tr.row').length];""")
    expected = sum(1 for n in range(10000) if n % 3 == 2 and n % 97)
    check(timing[3].startswith(f"{expected} of 10000"), f"filter to one label: {timing[3]!r} in {timing[0]:.0f} ms")
    check(timing[4] == (expected + 99) // 100 and timing[5] == expected - 100 * (timing[4] - 1),
          f"sorted by score in {timing[1]:.0f} ms; {timing[4]} pages walked in {timing[2]:.0f} ms")
    errors = driver.find_elements("css selector", "#error-table tr.error-row")
    check(len(errors) == sum(1 for n in range(10000) if n % 97 == 0), f"{len(errors)} errors listed")
    check([e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == [], "no console errors")
finally:
    driver.quit()
print(f"large report test: {'FAILED' if failures else 'passed'}")
sys.exit(1 if failures else 0)
