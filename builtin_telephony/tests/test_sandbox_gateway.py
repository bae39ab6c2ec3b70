"""SandboxGateway: plausible, valid, deterministic answers in TwilioGateway's shapes. No Odoo."""
import inspect
import re

import phonenumbers
from phonenumbers import PhoneNumberType

from odoo.tests import BaseCase

from ..tools.provider_errors import TelephonyProviderError
from ..tools.sandbox_gateway import SandboxGateway
from ..tools.twilio_gateway import TwilioGateway

ACCOUNT_SID = 'AC' + '1' * 32
ODOO = 'https://odoo.example.com/telephony/twilio'
NUMBER_KEYS = {'sid', 'phone_number', 'friendly_name', 'voice_url', 'status_callback'}
OFFER_KEYS = {'phone_number', 'friendly_name', 'region', 'locality', 'iso_country',
              'address_requirements', 'capabilities'}


class TestSandboxGateway(BaseCase):

    def setUp(self):
        self.gateway = SandboxGateway(ACCOUNT_SID, 'signing-key')

    def assertProviderError(self, message, call, *args, **kwargs):
        with self.assertRaises(TelephonyProviderError) as caught:
            call(*args, **kwargs)
        self.assertEqual(str(caught.exception), message)

    def test_same_methods_as_twilio(self):
        def public_methods(gateway_class):
            return {name: inspect.signature(method)
                    for name, method in inspect.getmembers(gateway_class, inspect.isfunction)
                    if not name.startswith('_')}
        self.assertEqual(public_methods(SandboxGateway), public_methods(TwilioGateway))

    def test_number_types(self):
        # As at Twilio: no mobile-only numbers where mobiles look like fixed lines.
        self.assertEqual(self.gateway.number_types('US'), ['local', 'toll_free'])
        self.assertProviderError(
            "No mobile numbers are available in country US. Pick another number type.",
            self.gateway.search_numbers, 'US', 'mobile')
        self.assertEqual(self.gateway.number_types('AF'), ['local', 'mobile'])

    def test_number_types_of_unknown_countries(self):
        for country_code in ('AQ', 'XX'):
            self.assertProviderError(
                f"No phone numbers are available in country {country_code}. Pick another country.",
                self.gateway.number_types, country_code)

    def test_search_gives_valid_numbers_of_the_type(self):
        accepted = {
            'local': {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
            'mobile': {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
            'toll_free': {PhoneNumberType.TOLL_FREE},
        }
        for country_code in ('US', 'FR', 'GB', 'DE', 'BE', 'IN', 'CN', 'IT'):
            for number_type in self.gateway.number_types(country_code):
                with self.subTest(country_code=country_code, number_type=number_type):
                    offers = self.gateway.search_numbers(country_code, number_type, limit=10)
                    self.assertEqual(len(offers), 10)
                    numbers = [offer['phone_number'] for offer in offers]
                    self.assertEqual(len(set(numbers)), 10, "no number twice")
                    for offer in offers:
                        self.assertEqual(set(offer), OFFER_KEYS)
                        self.assertEqual(offer['iso_country'], country_code)
                        self.assertTrue(offer['capabilities']['voice'])
                        number = phonenumbers.parse(offer['phone_number'])
                        self.assertTrue(phonenumbers.is_valid_number(number))
                        self.assertEqual(
                            phonenumbers.region_code_for_number(number), country_code)
                        self.assertEqual(phonenumbers.format_number(
                            number, phonenumbers.PhoneNumberFormat.E164), offer['phone_number'])
                        self.assertIn(phonenumbers.number_type(number), accepted[number_type])

    def test_search_is_deterministic(self):
        first = self.gateway.search_numbers('FR', 'local', contains='42')
        other_account = SandboxGateway('AC' + '2' * 32, 'other-key')
        again = other_account.search_numbers('FR', 'local', contains='42')
        self.assertEqual(first, again)

    def test_search_by_area_code_and_pattern(self):
        offers = self.gateway.search_numbers('US', 'local', region='415', contains='77')
        self.assertEqual(len(offers), 20)
        for offer in offers:
            self.assertRegex(offer['phone_number'], r'^\+1415\d{5}77$')
            self.assertIsNone(offer['region'])
        self.assertEqual(offers[0]['locality'], 'California')

    def test_search_by_word_and_wildcard(self):
        offers = self.gateway.search_numbers('US', 'toll_free', contains='FLOWERS', limit=3)
        self.assertEqual(len(offers), 3)
        for offer in offers:
            self.assertTrue(offer['phone_number'].endswith('3569377'), offer['phone_number'])
        offers = self.gateway.search_numbers('GB', 'mobile', contains='12*4', limit=3)
        for offer in offers:
            self.assertRegex(offer['phone_number'], r'12\d4$')

    def test_search_by_region_name(self):
        offers = self.gateway.search_numbers('CA', 'local', region='ON', limit=2)
        self.assertEqual([offer['region'] for offer in offers], ['ON', 'ON'])
        self.assertEqual([offer['locality'] for offer in offers], [None, None])

    def test_search_without_match_is_empty(self):
        self.assertEqual(self.gateway.search_numbers('FR', 'local', contains='1' * 20), [])
        self.assertEqual(self.gateway.search_numbers('FR', 'local', contains='#1'), [])

    def test_search_a_type_the_country_lacks(self):
        self.assertProviderError(
            "No toll_free numbers are available in country AF. Pick another number type.",
            self.gateway.search_numbers, 'AF', 'toll_free')
        self.assertProviderError(
            "No local numbers are available in country XX. Pick another number type.",
            self.gateway.search_numbers, 'XX', 'local')

    def test_buy_update_release(self):
        number = self.gateway.buy_number('+14155550123', f'{ODOO}/voice', f'{ODOO}/status')
        self.assertEqual(set(number), NUMBER_KEYS)
        self.assertRegex(number['sid'], r'^PN[0-9a-f]{32}$')
        self.assertEqual(number['phone_number'], '+14155550123')
        self.assertEqual(number['friendly_name'], '(415) 555-0123')
        self.assertEqual(number['voice_url'], f'{ODOO}/voice')
        self.assertEqual(number['status_callback'], f'{ODOO}/status')
        self.assertEqual(
            self.gateway.buy_number('+14155550123', f'{ODOO}/voice', f'{ODOO}/status')['sid'],
            number['sid'], "same account, same number: same sid")
        other_account = SandboxGateway('AC' + '2' * 32, 'signing-key')
        self.assertNotEqual(
            other_account.buy_number('+14155550123', f'{ODOO}/voice', f'{ODOO}/status')['sid'],
            number['sid'])

        updated = self.gateway.update_number(number['sid'], friendly_name='Sales line')
        self.assertEqual(updated, {
            'sid': number['sid'], 'phone_number': '+14155550123', 'friendly_name': 'Sales line',
            'voice_url': None, 'status_callback': None,
        })
        self.assertIsNone(self.gateway.release_number(number['sid']))

    def test_numbers_that_need_an_address(self):
        [offer] = self.gateway.search_numbers('DE', 'local', limit=1)
        self.assertEqual(offer['address_requirements'], 'local')
        self.assertEqual(self.gateway.search_numbers('US', 'local', limit=1)[0]['address_requirements'], 'none')
        self.assertProviderError(
            "This number is only sold with an address on file. Choose the address to register "
            "(in the number's country for local numbers) and buy it again.",
            self.gateway.buy_number, offer['phone_number'], f'{ODOO}/voice', f'{ODOO}/status')
        address_sid = self.gateway.create_address('Tess', 'Hauptstr. 1', 'Berlin', 'BE', '10115', 'DE')
        self.assertRegex(address_sid, r'^AD[0-9a-f]{32}$')
        number = self.gateway.buy_number(offer['phone_number'], f'{ODOO}/voice', f'{ODOO}/status',
                                         address_sid=address_sid)
        self.assertEqual(number['phone_number'], offer['phone_number'])
        self.assertProviderError(
            "Twilio refused the request: CustomerName, Street, City, Region, PostalCode and "
            "IsoCountry are required (error 21607).",
            self.gateway.create_address, 'Tess', '', 'Berlin', 'BE', '10115', 'DE')

    def test_update_a_number_bought_from_twilio(self):
        updated = self.gateway.update_number('PN' + 'a' * 32, voice_url=f'{ODOO}/voice')
        self.assertEqual(updated['sid'], 'PN' + 'a' * 32)
        self.assertIsNone(updated['phone_number'])

    def test_buy_an_invalid_number(self):
        for phone_number in ('+1415555', '14155550123', '+1 415 555 0123', 'sales'):
            self.assertProviderError(
                f"{phone_number} is not a valid phone number in international format, "
                "e.g. +14155552671.",
                self.gateway.buy_number, phone_number, f'{ODOO}/voice', f'{ODOO}/status')

    def test_caller_id_validation(self):
        validation = self.gateway.start_caller_id_validation(
            '+33612345678', 'Support line', f'{ODOO}/caller_id')
        self.assertRegex(validation['validation_code'], r'^\d{6}$')
        self.assertRegex(validation['call_sid'], r'^CA[0-9a-f]{32}$')
        again = self.gateway.start_caller_id_validation('+33612345678', 'Again', f'{ODOO}/caller_id')
        self.assertEqual(again['validation_code'], validation['validation_code'])
        self.assertNotEqual(again['call_sid'], validation['call_sid'], "each call is a new call")
        [caller_id] = self.gateway.list_caller_ids('+33612345678')
        self.assertEqual(caller_id['phone_number'], '+33612345678')
        self.assertRegex(caller_id['sid'], r'^PN[0-9a-f]{32}$')
        self.assertEqual(self.gateway.list_caller_ids(), [])
        self.assertIsNone(self.gateway.delete_caller_id(caller_id['sid']))
        self.assertProviderError(
            "0612345678 is not a valid phone number in international format, e.g. +14155552671.",
            self.gateway.start_caller_id_validation, '0612345678', 'Mine', f'{ODOO}/caller_id')

    def test_queues_and_calls(self):
        sales = self.gateway.queue_sid('Sales')
        self.assertTrue(re.fullmatch(r'QU[0-9a-f]{32}', sales))
        self.assertEqual(self.gateway.queue_sid('Sales'), sales)
        self.assertNotEqual(self.gateway.queue_sid('Support'), sales)
        self.assertIs(self.gateway.dequeue_member(sales, 'CA' + 'a' * 32, f'{ODOO}/connect'), False)
        self.assertIsNone(self.gateway.redirect_call('CA' + 'a' * 32, f'{ODOO}/flow'))

    def test_twiml_app(self):
        app_sid = self.gateway.create_twiml_app('Odoo softphone', f'{ODOO}/client')
        self.assertTrue(re.fullmatch(r'AP[0-9a-f]{32}', app_sid))
        self.assertEqual(self.gateway.update_twiml_app(app_sid, 'https://new.example.com/client'),
                         app_sid)
        self.assertProviderError(
            "The softphone's TwiML App APnope does not exist at the provider. Create it again, "
            "or clear its SID, in the Softphone section of Telephony > Built-in Telephony.",
            self.gateway.update_twiml_app, 'APnope', f'{ODOO}/client')
