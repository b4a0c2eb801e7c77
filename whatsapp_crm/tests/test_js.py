import odoo.tests

from odoo.addons.web.tests.test_js import unit_test_error_checker


def hoot_job_id(full_name):
    """The id Hoot gives a suite or a test: a 32-bit hash of its full name."""
    value = 0
    for char in full_name:
        value = (value * 31 + ord(char)) & 0xFFFFFFFF
    return f"{value:08x}"


@odoo.tests.tagged("post_install", "-at_install")
class TestJs(odoo.tests.HttpCase):
    """The module's Hoot tests (static/tests/*.test.js) in a headless browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo skips browser tests without it; ours must run, so say what is missing.
        try:
            import websocket  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "The JavaScript tests need the websocket-client package: "
                "pip install -r requirements-dev.txt"
            ) from error

    def test_hoot_job_id(self):
        # the ids Odoo's own runner uses for a suite and a test
        self.assertEqual(hoot_job_id("@web/core"), "e39ce9ba")
        self.assertEqual(hoot_job_id("@web/core/autocomplete/open dropdown on input"), "ee565d54")

    @odoo.tests.no_retry
    def test_hoot_suite(self):
        self.browser_js(
            "/web/tests?headless&loglevel=2&preset=desktop&timeout=15000"
            f"&id={hoot_job_id('@whatsapp_crm')}",
            "",
            "",
            login="admin",
            timeout=900,
            success_signal="[HOOT] Test suite succeeded",
            error_checker=unit_test_error_checker,
        )
