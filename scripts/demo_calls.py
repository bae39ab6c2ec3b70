"""Place a few calls on a new demo database, through its real webhooks, as the sandbox allows.

The sandbox provider's calls are simulated through the same routes and signature checks as
Twilio's (requirements §9): this script plays Twilio's part with the tests' call driver
(``builtin_telephony/tests/twilio_driver.py``) against the demo server, so that the demo's
Calls menu shows real calls: the steps of the "Sales line" flow, matched contacts, recordings,
credits charged. Run by ``scripts/demo.sh`` once, when it creates the demo database, while a
server answers on ``http://127.0.0.1:$HTTP_PORT``.

Usage: python demo_calls.py DATABASE HTTP_PORT   (with ODOO_RC set, as .cache/env.sh does)
"""
import sys
import unittest

import requests

import odoo
from odoo.modules.registry import Registry


class DemoServer(unittest.TestCase):
    """What the driver uses of an HttpCase: ``url_open`` and assertions (a failed assertion
    stops this script, not the demo)."""

    def __init__(self):
        super().__init__()
        self.session = requests.Session()

    def url_open(self, url, data=None, headers=None, allow_redirects=True, timeout=30):
        return self.session.post(url, data=data, headers=headers, allow_redirects=allow_redirects,
                                 timeout=timeout)


def place_calls(env, driver):
    """A morning on the sales line: who called, what they pressed, who answered."""
    number = env.ref('builtin_telephony.demo_number_sales').phone_number
    sales_rep = env.ref('builtin_telephony.demo_telephony_user_sales_rep')
    # Callers the CRM knows (a contact, an opportunity), so that the calls are matched to them.
    contacts = env['res.partner'].search([('phone_sanitized', '!=', False)], limit=2).mapped('phone_sanitized')
    prospects = env['crm.lead'].search([('phone_sanitized', '!=', False)], limit=1).mapped('phone_sanitized')
    contacts += ['+12025550143', '+12025550144'][len(contacts):]
    prospects = prospects or ['+12025550145']

    if not env.ref('builtin_telephony.demo_calendar_sales_line')._telephony_is_open():
        # Outside the line's working hours every caller reaches the after-hours voicemail.
        call = driver.incoming_call(contacts[0], number)
        call.leave_message(seconds=18, transcription=(
            "Hi, it's about my order. Could someone call me back tomorrow morning? Thanks."))
        driver.incoming_call('+14155550166', number)
        print("[demo] the sales line is closed now (Sales line hours): the demo calls reached "
              "its after-hours voicemail")
        return

    # A customer asks for their sales rep, who answers and talks for two and a half minutes;
    # meanwhile a prospect waits in the rep's queue (hearing their position), then presses 1 to
    # be called back.
    first = driver.incoming_call(contacts[0], number)
    first.press('1')
    first.answer(sales_rep.client_identity)
    waiting = driver.incoming_call(prospects[0], number)
    waiting.press('1')
    waiting.press_in_queue('1')
    first.end_talk(150)

    # The prospect asks for the sales team; one of them answers.
    call = driver.incoming_call(prospects[0], number)
    call.press('2')
    call.answer_and_talk(sales_rep.client_identity, seconds=75)

    # Someone says nothing at the menu, then leaves a voicemail (transcribed).
    call = driver.incoming_call(contacts[1], number)
    call.stay_silent()
    call.leave_message(seconds=24, transcription=(
        "Hello, this is a message about the quote you sent last week. Please call me back."))

    # An unknown caller asks for the sales team, nobody answers, no message is left.
    call = driver.incoming_call('+14155550123', number)
    call.press('2')
    call.no_answer()
    call.stay_silent()

    # A blocked number is rejected before the flow runs.
    driver.incoming_call('+14155550166', number)


def main(database, http_port):
    odoo.tools.config.parse_config(['-d', database, '--log-level', 'warn'])
    registry = Registry(database)
    # The driver lives with the tests; importing them outside test mode makes Odoo complain
    # (and test mode must be off while the registry loads, or it runs the at-install tests).
    odoo.tools.config['test_enable'] = True
    from odoo.addons.builtin_telephony.tests.twilio_driver import TwilioDriver  # noqa: PLC0415
    odoo.tools.config['test_enable'] = False

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        account = env.ref('builtin_telephony.demo_account')
        url = f'http://127.0.0.1:{http_port}'
        if account._webhook_url('') != url:
            # The account's public URL was taken from web.base.url when it was installed: point
            # it at this server, as an administrator does on the page (its numbers follow).
            account.webhook_base_url = url
            cr.commit()
        place_calls(env, TwilioDriver(DemoServer(), account))
        cr.rollback()  # the server wrote the calls
    print("[demo] placed the demo calls through the webhooks")


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
