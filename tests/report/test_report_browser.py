"""report.html in headless Chromium: it renders, every section is there, it is not blank."""

import io
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: The summary first, the provenance last.
SECTIONS = ["summary", "nep", "budgets", "indicators", "zoning", "changes", "spatial", "data"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                       reason="headless Chromium absent: apt-get install chromium chromium-driver"),
]


@pytest.fixture()
def driver(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium absent: pip install -e '.[test]'")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 "--window-size=480,900"):  # a phone-sized window
        opts.add_argument(flag)
    d = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_report_renders_in_chromium(report_folder, driver):
    from PIL import Image, ImageStat
    from selenium.webdriver.common.by import By

    driver.get((report_folder / "report.html").resolve().as_uri())
    assert "carbon balance report" in driver.title
    ids = [e.get_attribute("id") for e in driver.find_elements(By.TAG_NAME, "section")]
    assert ids == SECTIONS
    images = driver.find_elements(By.TAG_NAME, "img")
    assert len(images) == 21
    # every inline PNG decoded: a broken data URI has naturalWidth 0
    widths = driver.execute_script(
        "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
    assert min(widths) > 0
    # nothing wider than a phone screen (wide tables scroll inside their own box)
    assert driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # the page opens on the summary: its heading is within the first screen
    top = driver.execute_script("return document.getElementById('summary').getBoundingClientRect().top")
    assert top < 900
    # the provenance is folded
    assert not driver.find_element(By.ID, "provenance").get_attribute("open")
    banner = driver.find_element(By.ID, "generated-banner")
    assert banner.is_displayed() and "Generated inputs" in banner.text
    shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L")
    assert ImageStat.Stat(shot).var[0] > 100  # a blank page has (almost) no variance
    driver.execute_script("document.getElementById('fig-zone_maps').scrollIntoView()")
    shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L")
    assert ImageStat.Stat(shot).var[0] > 100
