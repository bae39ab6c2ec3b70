"""The ``sandbox`` provider: Twilio's gateway without Twilio, for demos, trials and tests.

It mirrors Odoo's ``payment_demo``: the same entry points and answers as the real provider
(``TwilioGateway``), so the rest of the add-on cannot tell them apart, and nothing leaves the
server. Its numbers are plausible, valid numbers built from the ``phonenumbers`` library's
example numbers.

It keeps no state, since several Odoo workers and servers would each hold their own: every answer
is derived from the request alone (sids are hashes, a number's sid encodes the number). What needs
memory (who waits in a queue, which caller IDs were verified) is kept by the Odoo layer.
"""
import hashlib
import io
import math
import re
import secrets
import struct
import wave

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, geocoder

from .provider_errors import (
    ADDRESS_REQUIRED, COUNTRY_NOT_OFFERED, INVALID_PHONE_NUMBER, NUMBER_TYPE_NOT_OFFERED, REFUSED,
    TWIML_APP_MISSING, TelephonyProviderError,
)
from .phone import PHONENUMBERS_TYPES
from .provider_gateway import ProviderGateway

# Our number type: (the phonenumbers type its example number comes from, the types a number of it
# may have). Where phonenumbers cannot tell fixed lines from mobiles (e.g. the US), numbers are
# FIXED_LINE_OR_MOBILE.
NUMBER_TYPES = {
    'local': (PhoneNumberType.FIXED_LINE,
              {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}),
    'mobile': (PhoneNumberType.MOBILE,
               {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}),
    'toll_free': (PhoneNumberType.TOLL_FREE, {PhoneNumberType.TOLL_FREE}),
}
# Where the sandbox, like Twilio, sells numbers only to customers with an address on file:
# 'local' = an address in the number's country, 'any' = anywhere. Elsewhere: 'none'.
ADDRESS_REQUIREMENTS = {
    ('AT', 'local'): 'local', ('AU', 'local'): 'any', ('AU', 'mobile'): 'any',
    ('BE', 'local'): 'local', ('CH', 'local'): 'local', ('DE', 'local'): 'local',
    ('DE', 'mobile'): 'any', ('ES', 'local'): 'local', ('FR', 'local'): 'local',
    ('IT', 'local'): 'local', ('JP', 'local'): 'local',
}
# Search results vary at most this many trailing digits of the example number.
VARIED_DIGITS = 4
# Coprime with 10: stepping by it visits every value of the varied digits once, in an order that
# looks less like a counter than 0000, 0001...
VARIATION_STEP = 7919
# E.164 numbers have at most 15 digits and never start with 0: zero-padded, they fit in a sid.
E164_DIGITS = 15


class SandboxGateway(ProviderGateway):
    """Same methods and answers as ``TwilioGateway``; see the module docstring."""

    def __init__(self, account_sid, auth_token):
        # The auth token is the sandbox webhooks' signing key, used by the Odoo layer only.
        self._account_sid = account_sid or ''

    # Phone numbers

    def number_types(self, country_code):
        offered = [number_type for number_type in NUMBER_TYPES
                   if self._offers(country_code, number_type)]
        if not offered:
            raise TelephonyProviderError(COUNTRY_NOT_OFFERED, country_code=country_code)
        return offered

    def search_numbers(self, country_code, number_type, region=None, contains=None, limit=20):
        """Up to ``limit`` valid numbers near the country's example number of that type.

        Like Twilio: an all-digit ``region`` is an area code that starts the national number,
        ``contains`` (digits, letters as on a keypad, ``*`` for any digit) ends up in the
        number, and no match is an empty list, not an error.
        """
        if not self._offers(country_code, number_type):
            raise TelephonyProviderError(
                NUMBER_TYPE_NOT_OFFERED, number_type=number_type, country_code=country_code)
        example = self._example_number(country_code, number_type)
        template = list(phonenumbers.national_significant_number(example))
        area_code = region if region and region.isdigit() else ''
        pattern = phonenumbers.convert_alpha_characters_in_number(contains or '')
        if len(area_code) + len(pattern) > len(template) or not re.fullmatch(r'[0-9*]*', pattern):
            return []
        template[:len(area_code)] = area_code
        if pattern:
            template[-len(pattern):] = [
                digit if digit != '*' else kept
                for digit, kept in zip(pattern, template[-len(pattern):])]
        # Positions left free by the area code and the pattern, the last ones varied.
        fixed = set(range(len(area_code))) | {
            len(template) - len(pattern) + index
            for index, digit in enumerate(pattern) if digit != '*'}
        varied = [index for index in range(len(template)) if index not in fixed][-VARIED_DIGITS:]
        accepted_types = NUMBER_TYPES[number_type][1]
        found = []
        for serial in range(10 ** len(varied)):
            digits = str(serial * VARIATION_STEP % 10 ** len(varied)).zfill(len(varied))
            for index, digit in zip(varied, digits):
                template[index] = digit
            number = phonenumbers.parse(f'+{example.country_code}{"".join(template)}')
            if phonenumbers.is_valid_number(number) \
                    and phonenumbers.number_type(number) in accepted_types:
                found.append(self._number_offer(number, country_code, number_type, region))
                if len(found) == limit:
                    break
        return found

    def create_address(self, customer_name, street, city, region, postal_code, iso_country):
        if not all((customer_name, street, city, region, postal_code, iso_country)):
            raise TelephonyProviderError(
                REFUSED, detail="CustomerName, Street, City, Region, PostalCode and IsoCountry "
                                "are required", code=21607)
        return self._sid('AD', 'address', customer_name, street, city, postal_code, iso_country)

    def buy_number(self, phone_number, voice_url, status_callback, friendly_name=None,
                   address_sid=None):
        number = self._parse(phone_number)
        if not address_sid and self._address_requirements(number) != 'none':
            raise TelephonyProviderError(ADDRESS_REQUIRED)
        # Twilio names a number after itself unless told otherwise.
        friendly_name = friendly_name or phonenumbers.format_number(
            number, PhoneNumberFormat.NATIONAL)
        return _number_dict(
            self._number_sid(phone_number), phone_number, friendly_name=friendly_name,
            voice_url=voice_url, status_callback=status_callback)

    def find_number(self, phone_number):
        """The sandbox keeps nothing: it owns no number until told it bought one (None)."""
        self._parse(phone_number)
        return None

    def update_number(self, sid, voice_url=None, status_callback=None, friendly_name=None):
        """Answers with the settings given; the ones not given are unknown (None), and so is the
        number of a sid the sandbox did not make (e.g. bought while the account used Twilio)."""
        digits = sid[-E164_DIGITS:].lstrip('0')
        phone_number = '+' + digits if digits.isdigit() else None
        return _number_dict(
            sid, phone_number, friendly_name=friendly_name,
            voice_url=voice_url, status_callback=status_callback)

    def release_number(self, sid):
        return None

    # Custom outgoing caller IDs

    def start_caller_id_validation(self, phone_number, friendly_name, status_callback):
        self._parse(phone_number)
        code = int(self._digest('validation', phone_number), 16) % 10 ** 6
        # Each verification is a new call, as at Twilio: its sid is what it is charged under.
        return {
            'validation_code': f'{code:06d}',
            'call_sid': 'CA' + secrets.token_hex(16),
        }

    def list_caller_ids(self, phone_number=None):
        """Every number asked about counts as verified; the full listing, unknowable without
        state, is empty."""
        if not phone_number:
            return []
        return [{'sid': self._sid('PN', 'caller_id', phone_number), 'phone_number': phone_number}]

    def delete_caller_id(self, sid):
        return None

    # Queues and live calls

    def queue_sid(self, friendly_name):
        return self._sid('QU', 'queue', friendly_name)

    def dequeue_member(self, queue_sid, call_sid, url):
        """Always False: the sandbox's callers wait in the Odoo layer, not here."""
        return False

    def redirect_call(self, call_sid, url):
        return None

    # Applications

    def create_twiml_app(self, friendly_name, voice_url):
        return self._sid('AP', 'application', voice_url)

    def update_twiml_app(self, sid, voice_url):
        """The sandbox keeps no application: any well-formed sid is there, as given."""
        if not re.fullmatch(r'AP[0-9a-fA-F]{32}', sid or ''):
            raise TelephonyProviderError(TWIML_APP_MISSING, sid=sid)
        return sid

    # Recordings

    def fetch_recording(self, sid):
        """A small generated audio file: storage counts a recording's duration, not its size."""
        return _sandbox_audio(), 'audio/wav'

    def delete_recording(self, sid):
        return None

    # Helpers

    @classmethod
    def _offers(cls, country_code, number_type):
        example = cls._example_number(country_code, number_type)
        if example and number_type == 'mobile':
            # Where mobiles cannot be told from fixed lines (the US, Canada...), there are no
            # mobile-only numbers to sell: Twilio offers local and toll-free ones there.
            return phonenumbers.number_type(example) == PhoneNumberType.MOBILE
        return bool(example)

    @staticmethod
    def _example_number(country_code, number_type):
        if number_type not in NUMBER_TYPES:
            return None
        return phonenumbers.example_number_for_type(country_code, NUMBER_TYPES[number_type][0])

    @staticmethod
    def _parse(phone_number):
        """The parsed number, if ``phone_number`` is a valid E.164 number."""
        try:
            number = phonenumbers.parse(phone_number)
        except phonenumbers.NumberParseException:
            number = None
        if not (number and phonenumbers.is_valid_number(number)) \
                or phonenumbers.format_number(number, PhoneNumberFormat.E164) != phone_number:
            raise TelephonyProviderError(INVALID_PHONE_NUMBER, phone_number=phone_number)
        return number

    @staticmethod
    def _address_requirements(number, number_type=None):
        if number_type is None:
            number_type = PHONENUMBERS_TYPES.get(phonenumbers.number_type(number), 'local')
        region_code = phonenumbers.region_code_for_number(number)
        return ADDRESS_REQUIREMENTS.get((region_code, number_type), 'none')

    @classmethod
    def _number_offer(cls, number, country_code, number_type, region):
        named_region = region if region and not region.isdigit() else None
        return {
            'phone_number': phonenumbers.format_number(number, PhoneNumberFormat.E164),
            'friendly_name': phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
            # A named region is echoed; the geocoder's place would contradict it.
            'region': named_region,
            'locality': (None if named_region
                         else geocoder.description_for_number(number, 'en') or None),
            'iso_country': country_code,
            'address_requirements': cls._address_requirements(number, number_type),
            # Twilio's North American numbers all take texts; elsewhere mostly mobiles do.
            'capabilities': {
                'voice': True,
                'sms': number_type == 'mobile' or number.country_code == 1,
            },
        }

    def _number_sid(self, phone_number):
        # Readable back by update_number: the number's digits end the sid.
        return (self._sid('PN', 'number', phone_number)[:-E164_DIGITS]
                + phone_number[1:].zfill(E164_DIGITS))

    def _digest(self, *parts):
        # The account is part of every sid so that two sandbox accounts never share one.
        return hashlib.sha256(':'.join((self._account_sid, *parts)).encode()).hexdigest()

    def _sid(self, prefix, *parts):
        """A Twilio-shaped sid (prefix and 32 hex digits), the same for the same request."""
        return prefix + self._digest(*parts)[:32]


def _number_dict(sid, phone_number, friendly_name, voice_url, status_callback):
    return {
        'sid': sid,
        'phone_number': phone_number,
        'friendly_name': friendly_name,
        'voice_url': voice_url,
        'status_callback': status_callback,
    }


def _sandbox_audio(seconds=1, rate=8000, pitch=440):
    """One second of a quiet 440 Hz tone as an 8 kHz, 16-bit mono WAV (16 KB)."""
    buffer = io.BytesIO()
    with wave.open(buffer, 'wb') as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b''.join(
            struct.pack('<h', int(3000 * math.sin(2 * math.pi * pitch * index / rate)))
            for index in range(seconds * rate)))
    return buffer.getvalue()
