"""Go-live alerts by Web Push, the browser's side (issue 21), in headless Chromium: the bell
asks the browser's permission only when pressed, registers the service worker and a push
subscription and tells the server; a push delivered to the worker through the DevTools
protocol shows the notification, and a click on it goes to the streamer's page; the alerts'
page lists them against the limit, with no serious axe finding, and removing the last
signs this device off; the web app manifest passes Chromium's installability check. And
through the whole product: a streamer going live at the Twitch emulator reaches the push
stand-in once, with the title of the go-live.

Screenshots of the bell and the alerts' page go to ``test-artifacts/``.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from shared.leases import lease_for_login
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.full_stack import running_stack, twitch_control
from tests.e2e.pages import account_menu, audited, follow, log_in, page_wait_until
from tests.support import VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY, PushDevice, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# Chromium's own push service is Google's, outside this machine: PushManager.subscribe is
# the one thing replaced, before any of the page's code runs, by one that answers with a
# subscription to ``endpoint`` with a key pair of the test's (and getSubscription with it,
# kept in the page's storage as a browser keeps its own). Everything else is the browser's:
# the permission, the service worker's registration, the push events, the notifications.
FAKE_PUSH_SERVICE = """
(() => {
  const subscription = %s
  const KEY = 'test:push-subscription-key'
  const made = (key) => ({
    endpoint: subscription.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: key.buffer },
    toJSON: () => subscription,
    getKey: () => null,
    unsubscribe: async () => { localStorage.removeItem(KEY); return true },
  })
  PushManager.prototype.subscribe = async function (options) {
    if (options.userVisibleOnly !== true) throw new DOMException('not visible', 'NotAllowedError')
    const key = new Uint8Array(options.applicationServerKey)
    localStorage.setItem(KEY, JSON.stringify(Array.from(key)))
    return made(key)
  }
  PushManager.prototype.getSubscription = async function () {
    const key = localStorage.getItem(KEY)
    return key ? made(new Uint8Array(JSON.parse(key))) : null
  }
})()
"""
NOTIFICATIONS = """navigator.serviceWorker.ready
  .then((registration) => registration.getNotifications())
  .then((shown) => shown.map(({ title, body, tag, icon, data }) =>
    ({ title, body, tag, icon, data })))"""
# A click on the notification, through the worker's own notificationclick listener. Only a
# person's click makes the event trusted, and headless Chromium shows no notification to
# click; an untrusted event may not open or focus a window, so the two calls are recorded
# (what the listener asked for) instead of made.
CLICK_NOTIFICATION = """async () => {
  const asked = []
  clients.openWindow = async (url) => { asked.push({ open: url }); return null }
  WindowClient.prototype.focus = async function () { asked.push({ focus: this.url }); return this }
  const [notification] = await registration.getNotifications()
  const event = new NotificationEvent('notificationclick', { notification })
  const waits = []
  event.waitUntil = (promise) => waits.push(promise)
  dispatchEvent(event)
  await Promise.all(waits)
  return { asked, left: (await registration.getNotifications()).length }
}"""
PUSH = {
    "type": "stream.online",
    "login": "cool_user",
    "name": "Cool_User",
    "title": "Speedrun <b>night</b>",
    "category": "Celeste",
    "stream_id": "stream-42",
    "url": "/watch/cool_user",
    "tag": "live-cool_user",
}


def browser_subscription(webpush, device_id: str) -> dict:
    """A push subscription as PushSubscription.toJSON() gives it: at the push stand-in,
    with a key pair and secret of the test's (tests.support.PushDevice)."""
    return {**PushDevice(webpush.endpoint(device_id)).subscription, "expirationTime": None}


def push_ready_page(open_page, app_url, subscription: dict):
    """A logged-in page whose browser would allow notifications (the viewer's answer to
    the question the bell makes it ask) and whose push service is the stand-in."""
    page, log = open_page()
    page.context.add_init_script(FAKE_PUSH_SERVICE % json.dumps(subscription))
    log_in(page, app_url)
    page.context.grant_permissions(["notifications"], origin=app_url)
    return page, log


def service_worker_registrations(page):
    """The DevTools session's list of the page's service worker registrations, kept up to
    date (ServiceWorker.enable's events)."""
    cdp = page.context.new_cdp_session(page)
    registrations: dict[str, dict] = {}

    def updated(event):
        for registration in event["registrations"]:
            registrations[registration["registrationId"]] = registration

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")
    return cdp, registrations


def test_the_bell_signs_up_and_a_push_shows_the_alert_that_opens_the_stream(
    open_page, app_url, webpush, artifacts
):
    subscription = browser_subscription(webpush, "bell-device")
    page, log = push_ready_page(open_page, app_url, subscription)
    page.goto(app_url + "/watch/cool_user")
    status = page.get_by_test_id("status")
    bell = status.get_by_role("button", name="Alert me when Cool_User goes live")
    expect(bell).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("notify")).to_have_count(0)  # the bell took its place
    expect(
        follow(page, "speedy_sam")
        .locator("xpath=..")
        .get_by_role("button", name="Alert me when SpeedySam goes live")
    ).to_be_visible()
    status.screenshot(path=str(artifacts / "alerts-bell-off.png"))
    cdp, registrations = service_worker_registrations(page)
    assert page.evaluate("navigator.serviceWorker.getRegistration()") is None  # none on load

    with page.expect_request(
        lambda request: request.method == "PUT" and request.url.endswith("/api/alerts/cool_user")
    ) as put:
        bell.click()
    assert put.value.post_data_json == {"subscription": subscription}
    assert put.value.response().status == 200
    on = status.get_by_role("button", name="Alerts on for Cool_User")
    expect(on).to_have_attribute("aria-pressed", "true")
    page.mouse.move(0, 0)
    status.screenshot(path=str(artifacts / "alerts-bell-on.png"))
    # The worker at /sw.js, for the whole site.
    wait_until(lambda: registrations or page.wait_for_timeout(50), timeout=5)
    (registration,) = registrations.values()
    assert registration["scopeURL"] == app_url + "/"
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)") == (
        app_url + "/sw.js"
    )

    page.goto(app_url + "/watch")
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": app_url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(PUSH),
        },
    )
    wait_until(
        lambda: page.evaluate(NOTIFICATIONS) or page.wait_for_timeout(50),
        timeout=5,
        message="no notification for the push",
    )
    assert page.evaluate(NOTIFICATIONS) == [
        {
            "title": "Cool_User is live",
            "body": "Speedrun <b>night</b> · Celeste",  # text: Twitch's words as written
            "tag": "live-cool_user",
            "icon": app_url + "/icons/icon-192.png",
            "data": {"url": "/watch/cool_user"},
        }
    ]
    (worker,) = page.context.service_workers
    # No window shows the stream: one opens on it.
    assert worker.evaluate(CLICK_NOTIFICATION) == {
        "asked": [{"open": "/watch/cool_user"}],
        "left": 0,
    }
    # A window shows it: that one comes forward.
    page.goto(app_url + "/watch/cool_user")
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": app_url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(PUSH),
        },
    )
    wait_until(lambda: page.evaluate(NOTIFICATIONS) or page.wait_for_timeout(50), timeout=5)
    assert worker.evaluate(CLICK_NOTIFICATION) == {
        "asked": [{"focus": app_url + "/watch/cool_user"}],
        "left": 0,
    }
    log.assert_clean()


def signs_off(page, button, subscription: dict) -> None:
    """Press ``button`` and check that the page had the server forget this device."""
    with page.expect_request(
        lambda request: (
            request.method == "DELETE" and request.url.endswith("/api/push-subscription")
        )
    ) as forgotten:
        button.click()
    assert forgotten.value.post_data_json == {"endpoint": subscription["endpoint"]}
    assert forgotten.value.response().status == 204


def test_the_alerts_page_lists_them_against_the_limit_and_removes_them(
    open_checked_page, app_url, webpush, artifacts
):
    subscription = browser_subscription(webpush, "page-device")
    page, log = push_ready_page(open_checked_page, app_url, subscription)
    # speedy_sam's card is the current one: its bell stays above the card's brand colour.
    page.goto(app_url + "/watch/speedy_sam")
    expect(follow(page, "speedy_sam")).to_have_attribute("aria-current", "true")
    for login, name in (("speedy_sam", "SpeedySam"), ("chill_chess", "ChillChess")):
        card = follow(page, login).locator("xpath=..")
        card.get_by_role("button", name=f"Alert me when {name} goes live").click()
        expect(card.get_by_role("button", name=f"Alerts on for {name}")).to_be_visible()

    account_menu(page).get_by_role("link", name="Go-live alerts").click()
    page.wait_for_url(app_url + "/alerts")
    alerts = page.get_by_test_id("alert")
    expect(alerts).to_have_count(2)
    expect(page.get_by_test_id("alert-count")).to_have_text("2 of 50")
    expect(page.get_by_test_id("device-state")).to_have_text("This browser gets your alerts.")
    page.screenshot(path=str(artifacts / "alerts-page.png"), full_page=True)
    violations = audited(page)
    assert violations == [], json.dumps(violations, indent=1)

    # This device off and on again; the list stays, for the viewer's other devices.
    device = page.get_by_test_id("device-state")
    signs_off(page, page.get_by_role("button", name="Stop alerts on this device"), subscription)
    expect(device).to_have_text("This browser gets no alerts.")
    expect(alerts).to_have_count(2)
    page.get_by_role("button", name="Get alerts on this device").click()
    expect(device).to_have_text("This browser gets your alerts.")

    page.get_by_role("button", name="Remove the alerts for SpeedySam").click()
    expect(alerts).to_have_count(1)
    expect(page.get_by_test_id("alert-count")).to_have_text("1 of 50")
    expect(page.get_by_test_id("device-state")).to_have_text("This browser gets your alerts.")
    # The last one: this device stops getting alerts, and the server forgets it.
    signs_off(
        page, page.get_by_role("button", name="Remove the alerts for ChillChess"), subscription
    )
    expect(page.get_by_test_id("no-alerts")).to_be_visible()
    expect(page.get_by_test_id("alert-count")).to_have_text("0 of 50")
    expect(page.get_by_test_id("device-state")).to_have_text("This browser gets no alerts.")
    log.assert_clean()


def test_the_app_is_installable(browser, app_url, tmp_path):
    # Chromium installs nothing from an incognito window, which every new_context() is:
    # this check runs in a profile of its own.
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS
    )
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(app_url + "/")
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == app_url + "/manifest.webmanifest"
        assert manifest["errors"] == [], manifest["errors"]
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        assert errors == []
    finally:
        context.close()


@pytest.fixture
def alerting_stack(tmp_path, frontend_build):
    """The whole product as real processes, with Web Push on (the tests' VAPID keys)."""
    keys = dict(VAPID_PUBLIC_KEY=VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY=VAPID_PRIVATE_KEY)
    with running_stack(tmp_path, ("--workers", "1"), ("--concurrency", "2"), **keys) as stack:
        yield stack


def test_a_streamer_going_live_at_twitch_alerts_the_device_once_with_the_title(
    alerting_stack, open_page, webpush
):
    """SpeedySam is not watched: only the alert's lease holds its stream.online."""
    stack = alerting_stack
    app_url = f"http://localhost:{stack.web_port}"
    device = PushDevice(webpush.endpoint("whole-stack"))
    page, log = push_ready_page(open_page, app_url, {**device.subscription, "expirationTime": None})
    page.goto(app_url + "/watch")
    follow(page, "speedy_sam").locator("xpath=..").get_by_role(
        "button", name="Alert me when SpeedySam goes live"
    ).click()
    expect(page.get_by_role("button", name="Alerts on for SpeedySam")).to_be_visible()
    page_wait_until(
        page,
        lambda: (
            (lease := lease_for_login(stack.redis(), "speedy_sam")) is not None
            and {name: held["status"] for name, held in lease["subscriptions"].items()}
            == {"stream.online": "enabled"}
        ),
        timeout=30,
        message="the alert never held SpeedySam's stream.online alone",
    )

    twitch_control(stack, "go-offline", login="speedy_sam")
    twitch_control(
        stack, "go-live", login="speedy_sam", title="Race <b>night</b>", category="Celeste"
    )
    wait_until(lambda: webpush.received("whole-stack"), timeout=30, message="no push arrived")
    page.wait_for_timeout(1000)  # a second push, were there one, would be in by now
    [received] = webpush.received("whole-stack")
    payload = device.decrypt(received)
    assert payload["login"] == "speedy_sam" and payload["url"] == "/watch/speedy_sam"
    assert (payload["title"], payload["category"]) == ("Race <b>night</b>", "Celeste")
    log.assert_clean()
