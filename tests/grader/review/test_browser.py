"""The review app in a real browser: Selenium driving Debian's chromium through chromium-driver (setup.sh
installs both where apt is there). Grading by clicking rubric items, keys, reloads, a stale second tab, and
hostile answers that must stay text."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.gradebook import GRADEBOOK_NAME, anonymous_ids, answers
from grader.review.app import create_app
from grader.review.serve import bind
from tests.grader.review.conftest import CATALOGUE

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMEDRIVER is None, reason="chromium-driver is not installed (bash setup.sh)")
WAIT = 20  # seconds a page may take to show a save: generous for a loaded CI machine, never a grade


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def serving(out: Path) -> Iterator[str]:
    server = bind(create_app(out, CATALOGUE), 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture
def site(fresh_class: Path) -> Iterator[str]:
    yield from serving(fresh_class)


@pytest.fixture
def hostile_site(hostile_class: Path) -> Iterator[str]:
    yield from serving(hostile_class)


def status_reads(browser: webdriver.Chrome, text: str) -> None:
    WebDriverWait(browser, WAIT).until(lambda b: text in b.find_element(By.ID, "status").text)


def rubric(browser: webdriver.Chrome) -> list:
    return browser.find_elements(By.CSS_SELECTOR, "button.item")


def pressed(browser: webdriver.Chrome) -> list[bool]:
    return [item.get_attribute("aria-pressed") == "true" for item in rubric(browser)]


def test_two_answers_graded_by_rubric_clicks_are_kept_after_a_reload(
    browser: webdriver.Chrome, site: str, fresh_class: Path
) -> None:
    browser.get(site)
    browser.find_element(By.CSS_SELECTOR, 'a[data-question="optimal_d/Q1"]').click()
    first = browser.current_url
    items = rubric(browser)
    items[0].click()
    items[2].click()
    status_reads(browser, "saved: 2 points")
    assert browser.find_element(By.ID, "progress").text == "1 / 2 graded"
    browser.find_element(By.TAG_NAME, "body").send_keys("n")  # next ungraded: the other student's Q1
    WebDriverWait(browser, WAIT).until(lambda b: b.current_url != first)
    second = browser.current_url
    assert "/grade/optimal_d/Q1/" in second
    browser.find_element(By.TAG_NAME, "body").send_keys("4")  # key 4 ticks the fourth rubric item
    status_reads(browser, "saved: 1 points")
    browser.get(first)
    assert pressed(browser) == [True, False, True, False]
    assert browser.find_element(By.ID, "points").get_attribute("value") == "2"
    browser.refresh()
    assert pressed(browser) == [True, False, True, False]
    browser.get(second)
    assert pressed(browser) == [False, False, False, True]
    graded = {(a.submission, a.question): (a.points, a.rubric) for a in answers(fresh_class / GRADEBOOK_NAME)}
    assert sorted(points for points in graded.values() if points[0] is not None) == [(1.0, (3,)), (2.0, (0, 2))]


def test_typed_points_are_kept_in_range_and_a_comment_is_saved(
    browser: webdriver.Chrome, site: str, fresh_class: Path
) -> None:
    who = anonymous_ids(fresh_class / GRADEBOOK_NAME)["written_answers"]
    browser.get(f"{site}/grade/optimal_d/Q3/{who}")
    points = browser.find_element(By.ID, "points")
    points.send_keys("99\n")  # Enter saves; the field clamps to the question's 3 points
    status_reads(browser, "saved: 3 points")
    browser.find_element(By.ID, "comment").send_keys("Clear & complete: <well done>")
    status_reads(browser, "saved")
    WebDriverWait(browser, WAIT).until(
        lambda _: any(a.comment == "Clear & complete: <well done>" for a in answers(fresh_class / GRADEBOOK_NAME))
    )
    (graded,) = [a for a in answers(fresh_class / GRADEBOOK_NAME) if a.points is not None]
    assert (graded.submission, graded.question, graded.points) == ("written_answers", "Q3", 3.0)


def test_a_stale_second_tab_is_refused_and_says_so(browser: webdriver.Chrome, site: str, fresh_class: Path) -> None:
    who = anonymous_ids(fresh_class / GRADEBOOK_NAME)["perfect"]
    page = f"{site}/grade/optimal_d/Q2/{who}"
    browser.get(page)
    first_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(page)  # both tabs opened the answer at version 0
    browser.switch_to.window(first_tab)
    rubric(browser)[0].click()
    status_reads(browser, "saved: 1 points")
    browser.switch_to.window(browser.window_handles[-1])
    rubric(browser)[1].click()
    status_reads(browser, "was changed since you opened it")
    assert not browser.find_element(By.ID, "points").is_enabled()  # nothing more can be typed into a stale page
    browser.close()
    browser.switch_to.window(first_tab)
    (kept,) = [a for a in answers(fresh_class / GRADEBOOK_NAME) if a.points is not None]
    assert (kept.points, kept.rubric, kept.version) == (1.0, (0,), 1)


def test_hostile_answers_stay_text_and_the_page_stays_usable(browser: webdriver.Chrome, hostile_site: str) -> None:
    browser.get(hostile_site)
    for question in ("Q1", "Q2", "Q3"):
        browser.find_element(By.CSS_SELECTOR, f'a[data-question="optimal_d/{question}"]').click()
        WebDriverWait(browser, WAIT).until(lambda b: b.execute_script("return document.readyState") == "complete")
        assert browser.execute_script("return window.pwned === undefined")
        answer = browser.find_element(By.ID, "answer")
        assert answer.size["width"] < 2000 and answer.size["height"] < 3000  # no giant rule, no runaway macro
        if question == "Q1":
            assert "<script>window.pwned = 1</script>" in answer.text
        if question == "Q2":
            assert browser.find_elements(By.CSS_SELECTOR, "#answer .katex-error, #answer .math-error")
        for link in answer.find_elements(By.TAG_NAME, "a"):
            assert not (link.get_attribute("href") or "").startswith("javascript:")
        browser.get(hostile_site)
