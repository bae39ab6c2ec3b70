"""Contract tests of TwilioGateway against Twilio's OpenAPI spec, served by Prism (see prism.py).

Prism checks every request the SDK sends (a wrong parameter fails the test with PrismRejection)
and answers with the spec's examples, which is what the assertions on returned values compare to.
No database, no Odoo.
"""
import socket
import time

from requests import ConnectionError as RequestsConnectionError, Timeout
from twilio.base.exceptions import TwilioException

from odoo.tests import BaseCase

from ..tools.provider_errors import TelephonyProviderError
from ..tools.twilio_gateway import TwilioGateway
from .prism import PrismHttpClient, PrismRejection

ACCOUNT_SID = 'AC' + '0' * 32
ACCOUNT = f'/2010-04-01/Accounts/{ACCOUNT_SID}'
NUMBER_SID = 'PN' + 'a' * 32
QUEUE_SID = 'QU' + 'a' * 32
CALL_SID = 'CA' + 'a' * 32
APP_SID = 'AP' + 'a' * 32
ODOO = 'https://odoo.example.com/telephony/twilio'

BAD_CREDENTIALS = ("Twilio rejected the account SID or auth token. "
                   "Check them in Telephony > Built-in Telephony.")
NUMBER_UNAVAILABLE = ("This number is no longer available at Twilio. "
                      "Search again and pick another one.")
ADDRESS_REQUIRED = ("This number is only sold with an address on file. Choose the address to register "
                    "(in the number's country for local numbers) and buy it again.")
RATE_LIMITED = "Twilio is rate-limiting requests. Wait a minute and try again."
NO_ANSWER = ("Twilio did not answer in time. "
             "Check the server's internet access and try again.")


class TwilioGatewayCase(BaseCase):

    def setUp(self):
        self.http = PrismHttpClient()
        self.gateway = TwilioGateway(ACCOUNT_SID, 'auth-token', http_client=self.http)

    def assertProviderError(self, message, call, *args, **kwargs):
        """``call`` raises a TelephonyProviderError saying ``message``, caused by the SDK."""
        with self.assertRaises(TelephonyProviderError) as caught:
            call(*args, **kwargs)
        self.assertEqual(str(caught.exception), message)
        return caught.exception


class TestNumberSearch(TwilioGatewayCase):

    def test_number_types_of_a_country(self):
        self.assertEqual(self.gateway.number_types('US'), ['local', 'toll_free'])
        self.assertEqual(self.http.sent, [('GET', f'{ACCOUNT}/AvailablePhoneNumbers/US.json')])

    def test_number_types_of_a_country_without_numbers(self):
        self.http.force_status = 404
        self.assertProviderError(
            "No phone numbers are available in country AQ. Pick another country.",
            self.gateway.number_types, 'AQ')

    def test_search_local_by_area_code_and_pattern(self):
        numbers = self.gateway.search_numbers('US', 'local', region='808', contains='925')
        self.assertEqual(numbers, [{
            'phone_number': '+18089251571',
            'friendly_name': '(808) 925-1571',
            'region': 'HI',
            'locality': 'Hilo',
            'iso_country': 'US',
            'address_requirements': 'none',
            'capabilities': {'voice': True, 'sms': False},
        }])
        self.assertEqual(
            self.http.sent, [('GET', f'{ACCOUNT}/AvailablePhoneNumbers/US/Local.json')])

    def test_search_local_by_region_name(self):
        numbers = self.gateway.search_numbers('US', 'local', region='HI', limit=5)
        self.assertEqual([number['phone_number'] for number in numbers], ['+18089251571'])

    def test_search_mobile(self):
        numbers = self.gateway.search_numbers('NO', 'mobile', contains='59*')
        self.assertEqual(numbers, [{
            'phone_number': '+4759440374',
            'friendly_name': '+4759440374',
            'region': None,
            'locality': None,
            'iso_country': 'NO',
            'address_requirements': 'none',
            'capabilities': {'voice': False, 'sms': True},
        }])
        self.assertEqual(
            self.http.sent, [('GET', f'{ACCOUNT}/AvailablePhoneNumbers/NO/Mobile.json')])

    def test_search_toll_free_by_word(self):
        numbers = self.gateway.search_numbers('US', 'toll_free', region='800', contains='FLOWERS')
        self.assertEqual([number['phone_number'] for number in numbers], ['+18001000052'])
        self.assertEqual(numbers[0]['capabilities'], {'voice': True, 'sms': True})
        self.assertEqual(
            self.http.sent, [('GET', f'{ACCOUNT}/AvailablePhoneNumbers/US/TollFree.json')])

    def test_search_a_type_the_country_lacks(self):
        self.http.force_status = 404
        self.assertProviderError(
            "No mobile numbers are available in country US. Pick another number type.",
            self.gateway.search_numbers, 'US', 'mobile')

    def test_search_a_type_we_do_not_sell(self):
        self.assertProviderError(
            "No voip numbers are available in country US. Pick another number type.",
            self.gateway.search_numbers, 'US', 'voip')
        self.assertEqual(self.http.sent, [], "nothing to ask Twilio")


class TestNumbers(TwilioGatewayCase):

    def test_buy_number(self):
        number = self.gateway.buy_number(
            '+18089255327', f'{ODOO}/voice', f'{ODOO}/status', friendly_name='YourCompany')
        # Prism answers with the spec's example, not an echo of the request.
        self.assertEqual(number, {
            'sid': NUMBER_SID,
            'phone_number': '+18089255327',
            'friendly_name': 'friendly_name',
            'voice_url': 'https://example.com',
            'status_callback': 'https://example.com',
        })
        self.assertEqual(self.http.sent, [('POST', f'{ACCOUNT}/IncomingPhoneNumbers.json')])

    def test_buy_number_with_an_address(self):
        address_sid = self.gateway.create_address(
            'Tess Admin', 'Calle Mayor 1', 'Madrid', 'Madrid', '28013', 'ES')
        self.assertRegex(address_sid, r'^AD[0-9a-f]{32}$')
        self.gateway.buy_number('+34910000142', f'{ODOO}/voice', f'{ODOO}/status', address_sid=address_sid)
        self.assertEqual(self.http.sent, [('POST', f'{ACCOUNT}/Addresses.json'),
                                          ('POST', f'{ACCOUNT}/IncomingPhoneNumbers.json')])

    def test_buy_number_that_needs_an_address(self):
        self.http.force_status = 400
        self.http.force_example = 'address_required'
        self.assertProviderError(
            ADDRESS_REQUIRED,
            self.gateway.buy_number, '+34910000142', f'{ODOO}/voice', f'{ODOO}/status')

    def test_buy_number_sold_meanwhile(self):
        self.http.force_status = 404
        error = self.assertProviderError(
            NUMBER_UNAVAILABLE,
            self.gateway.buy_number, '+18089255327', f'{ODOO}/voice', f'{ODOO}/status')
        self.assertEqual(error.__cause__.status, 404)

    def test_buy_number_no_longer_available(self):
        self.http.force_status = 400
        self.http.force_example = 'number_unavailable'
        error = self.assertProviderError(
            NUMBER_UNAVAILABLE,
            self.gateway.buy_number, '+18089255327', f'{ODOO}/voice', f'{ODOO}/status')
        self.assertEqual(error.__cause__.code, 21422)

    def test_update_number(self):
        number = self.gateway.update_number(
            NUMBER_SID, voice_url=f'{ODOO}/voice', status_callback=f'{ODOO}/status',
            friendly_name='Sales line')
        self.assertEqual(number['sid'], NUMBER_SID)
        self.assertEqual(number['phone_number'], '+18089255327')
        self.assertEqual(
            self.http.sent, [('POST', f'{ACCOUNT}/IncomingPhoneNumbers/{NUMBER_SID}.json')])

    def test_find_number(self):
        number = self.gateway.find_number('+18089255327')
        self.assertEqual(number['sid'], NUMBER_SID)
        self.assertEqual(self.http.sent, [('GET', f'{ACCOUNT}/IncomingPhoneNumbers.json')])

    def test_release_number(self):
        self.assertIsNone(self.gateway.release_number(NUMBER_SID))
        self.assertEqual(
            self.http.sent, [('DELETE', f'{ACCOUNT}/IncomingPhoneNumbers/{NUMBER_SID}.json')])

    def test_release_number_already_released(self):
        self.http.force_status = 404
        self.assertIsNone(self.gateway.release_number(NUMBER_SID))


class TestCallerIds(TwilioGatewayCase):

    def test_start_caller_id_validation(self):
        validation = self.gateway.start_caller_id_validation(
            '+14158675309', 'Support line', f'{ODOO}/caller_id')
        self.assertEqual(validation, {'validation_code': '111111', 'call_sid': CALL_SID})
        self.assertEqual(self.http.sent, [('POST', f'{ACCOUNT}/OutgoingCallerIds.json')])

    def test_list_caller_ids(self):
        self.assertEqual(
            self.gateway.list_caller_ids('+14158675309'),
            [{'sid': NUMBER_SID, 'phone_number': '+141586753096'}])
        self.assertEqual(len(self.gateway.list_caller_ids()), 1)

    def test_delete_caller_id(self):
        self.assertIsNone(self.gateway.delete_caller_id(NUMBER_SID))
        self.assertEqual(
            self.http.sent, [('DELETE', f'{ACCOUNT}/OutgoingCallerIds/{NUMBER_SID}.json')])


class TestQueuesAndCalls(TwilioGatewayCase):

    def test_queue_sid_of_an_existing_queue(self):
        # The spec's example queue is named "0.361280134646222".
        self.assertEqual(self.gateway.queue_sid('0.361280134646222'), QUEUE_SID)
        self.assertEqual(self.http.sent, [('GET', f'{ACCOUNT}/Queues.json')])

    def test_queue_sid_creates_a_missing_queue(self):
        self.assertEqual(self.gateway.queue_sid('Sales'), QUEUE_SID)
        self.assertEqual(
            self.http.sent, [('GET', f'{ACCOUNT}/Queues.json'), ('POST', f'{ACCOUNT}/Queues.json')])

    def test_dequeue_member(self):
        self.assertIs(self.gateway.dequeue_member(QUEUE_SID, CALL_SID, f'{ODOO}/connect'), True)
        self.assertEqual(
            self.http.sent, [('POST', f'{ACCOUNT}/Queues/{QUEUE_SID}/Members/{CALL_SID}.json')])

    def test_dequeue_a_member_no_longer_waiting(self):
        """The caller hung up, or a retried hand-off already took them: nobody else is taken."""
        self.http.force_status = 404
        self.assertIs(self.gateway.dequeue_member(QUEUE_SID, CALL_SID, f'{ODOO}/connect'), False)

    def test_redirect_call(self):
        self.assertIsNone(self.gateway.redirect_call(CALL_SID, f'{ODOO}/flow'))
        self.assertEqual(self.http.sent, [('POST', f'{ACCOUNT}/Calls/{CALL_SID}.json')])


class TestApplications(TwilioGatewayCase):

    def test_create_twiml_app(self):
        self.assertEqual(self.gateway.create_twiml_app('Odoo softphone', f'{ODOO}/client'), APP_SID)
        self.assertEqual(self.http.sent, [('POST', f'{ACCOUNT}/Applications.json')])

    def test_update_twiml_app(self):
        """The public URL changed: the softphone's App follows it (issue 9, item 5)."""
        self.assertEqual(self.gateway.update_twiml_app(APP_SID, f'{ODOO}/client'), APP_SID)
        self.assertEqual(self.http.sent, [('POST', f'{ACCOUNT}/Applications/{APP_SID}.json')])

    def test_update_a_twiml_app_deleted_at_twilio(self):
        self.http.force_status = 404
        self.assertProviderError(
            f"The softphone's TwiML App {APP_SID} does not exist at the provider. Create it "
            "again, or clear its SID, in the Softphone section of Telephony > Built-in Telephony.",
            self.gateway.update_twiml_app, APP_SID, f'{ODOO}/client')

    def test_prism_checks_the_app_update(self):
        with self.assertRaises(PrismRejection) as caught:
            self.gateway.update_twiml_app(APP_SID, 'not a url')
        self.assertIn('VoiceUrl must match format "uri"', str(caught.exception))


class TestFailures(TwilioGatewayCase):

    def test_bad_credentials(self):
        self.http.force_status = 401
        error = self.assertProviderError(BAD_CREDENTIALS, self.gateway.number_types, 'US')
        self.assertEqual(error.__cause__.code, 20003)

    def test_bad_credentials_on_a_listing(self):
        # Listings fail with a bare TwilioException carrying the response, not a
        # TwilioRestException: the gateway must read the status from the response.
        self.http.force_status = 401
        error = self.assertProviderError(
            BAD_CREDENTIALS, self.gateway.search_numbers, 'US', 'local')
        self.assertIs(type(error.__cause__), TwilioException)

    def test_missing_credentials(self):
        with self.assertRaises(TelephonyProviderError) as caught:
            TwilioGateway(ACCOUNT_SID, '', http_client=self.http)
        self.assertEqual(
            str(caught.exception),
            "Enter the Twilio account SID and auth token in Telephony > Built-in Telephony.")

    def test_rate_limited(self):
        self.http.force_status = 429
        self.assertProviderError(RATE_LIMITED, self.gateway.search_numbers, 'US', 'toll_free')

    def test_other_refusal_quotes_twilio(self):
        self.http.force_status = 400
        error = self.assertProviderError(
            "Twilio refused the request: Url is not a valid URL: not-a-url (error 21205).",
            self.gateway.redirect_call, CALL_SID, f'{ODOO}/flow')
        self.assertEqual(
            error.params, {'detail': "Url is not a valid URL: not-a-url", 'code': 21205})

    def test_no_answer(self):
        with socket.socket() as silent:
            # Listening but never accepting: the kernel completes the connection, nobody answers.
            silent.bind(('127.0.0.1', 0))
            silent.listen()
            http = PrismHttpClient(base_url='http://127.0.0.1:%d' % silent.getsockname()[1],
                                   timeout=0.5)
            gateway = TwilioGateway(ACCOUNT_SID, 'auth-token', http_client=http)
            started = time.monotonic()
            error = self.assertProviderError(NO_ANSWER, gateway.number_types, 'US')
        self.assertIsInstance(error.__cause__, Timeout)
        # The gateway gives up instead of hanging (Odoo's test cases raise any requests timeout
        # under 10 s to 10 s, hence the margin).
        self.assertLess(time.monotonic() - started, 30)

    def test_no_connection(self):
        with socket.socket() as closed:
            closed.bind(('127.0.0.1', 0))  # bound, not listening: connections are refused
            http = PrismHttpClient(base_url='http://127.0.0.1:%d' % closed.getsockname()[1])
            gateway = TwilioGateway(ACCOUNT_SID, 'auth-token', http_client=http)
            error = self.assertProviderError(NO_ANSWER, gateway.release_number, NUMBER_SID)
        self.assertIsInstance(error.__cause__, RequestsConnectionError)

    def test_prism_rejects_requests_breaking_the_spec(self):
        """The harness itself: a request Twilio would refuse fails the test, whatever the
        gateway makes of the answer."""
        with self.assertRaises(PrismRejection) as caught:
            self.gateway.update_number(NUMBER_SID, voice_url='not a url')
        self.assertIn('VoiceUrl must match format "uri"', str(caught.exception))
