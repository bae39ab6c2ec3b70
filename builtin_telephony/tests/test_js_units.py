"""Runs every Hoot unit test of this add-on (``static/tests/**/*.test.js``, in the
``web.assets_unit_tests`` bundle) in headless Chromium, as Odoo's own ``web`` suite does.

One test per run of the bundle: Hoot reports each failing JS test in the log (``[HOOT]``) and
the run fails unless it ends with "test suite succeeded". Only this add-on's suites run: Hoot
names a test file's suite after its module path (``@builtin_telephony/...``), and the URL
filters on the hash of that prefix, as ``web.tests.test_js.HOOTCommon`` computes it.
"""
from odoo.tests import HttpCase, tagged

from odoo.addons.web.tests.test_js import unit_test_error_checker

SUITE = '@builtin_telephony'


def hoot_hash(name):
    """Hoot's id of a suite or test (``HOOTCommon._generate_hash``)."""
    value = 0
    for char in name:
        value = ((value << 5) - value + ord(char)) & 0xFFFFFFFF
    return f'{value:08x}'


@tagged('post_install', '-at_install')
class TestJsUnits(HttpCase):

    def test_hoot_hash(self):
        # Hoot's own examples (web/tests/test_js.py).
        self.assertEqual(hoot_hash('@web/core'), 'e39ce9ba')
        self.assertEqual(hoot_hash('@web/core/autocomplete'), '69a6561d')

    def test_builtin_telephony_hoot_suite(self):
        suite = hoot_hash(SUITE)
        self.browser_js(
            f'/web/tests?headless&loglevel=2&preset=desktop&timeout=15000&suite={suite}',
            '', '', login='admin', timeout=600,
            success_signal='[HOOT] test suite succeeded', error_checker=unit_test_error_checker)
