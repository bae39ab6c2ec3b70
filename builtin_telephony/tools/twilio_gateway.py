"""Every REST call the add-on makes to Twilio (the only module that imports ``twilio.rest``).

Plain Python in, plain dicts out: models call a gateway (see ``gateways.get_gateway``) and never
build requests themselves, like ``sms.tools.sms_api``. Failures of any kind come out as
``TelephonyProviderError`` with a message that says what to do next.
"""
import requests
from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.base.version import Version
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

# Our number types are named like the AvailablePhoneNumberCountry subresources (and the SDK
# attributes reaching them); Twilio's other kinds (national, voip, shared_cost...) are not offered.
from ..const import NUMBER_TYPE_CODES
from .provider_errors import (
    ADDRESS_REQUIRED, BAD_CREDENTIALS, COUNTRY_NOT_OFFERED, MISSING_CREDENTIALS, NO_ANSWER, NUMBER_TYPE_NOT_OFFERED,
    NUMBER_UNAVAILABLE, RATE_LIMITED, RECORDING_NOT_READY, REFUSED, TWIML_APP_MISSING,
    TelephonyProviderError,
)
from .provider_gateway import ProviderGateway

# Twilio's answer when the number picked from a search was bought by someone else meanwhile.
NUMBER_UNAVAILABLE_CODES = {21422, 21452}
# The number is sold only to a customer with an address on file (in its country, for 'local').
ADDRESS_REQUIRED_CODES = {21615, 21631}
BAD_CREDENTIALS_CODE = 20003
RATE_LIMITED_CODE = 20429
# Twilio's page-size maximum; an account holds far fewer queues than that.
QUEUE_PAGE_SIZE = 1000
TWILIO_API = 'https://api.twilio.com'
# Recordings are downloaded as MP3, about 8 times smaller than Twilio's default WAV.
RECORDING_FORMAT = ('.mp3', 'audio/mpeg')


class TwilioGateway(ProviderGateway):
    """Twilio's REST API for one account.

    ``timeout`` (seconds) applies to the default HTTP client; a given ``http_client`` (the tests'
    Prism client) keeps its own.
    """

    def __init__(self, account_sid, auth_token, http_client=None, timeout=15):
        # The SDK would silently fall back to the TWILIO_* environment variables.
        if not (account_sid and auth_token):
            raise TelephonyProviderError(MISSING_CREDENTIALS)
        self._credentials = (account_sid, auth_token)
        self._timeout = timeout
        # The media of a recording is not part of Twilio's REST API description (so not of the
        # contract tests' Prism): a client may name another host for it (a test server).
        self._media_base_url = getattr(http_client, 'media_base_url', None) or TWILIO_API
        self._account = Client(
            account_sid, auth_token,
            http_client=http_client or TwilioHttpClient(timeout=timeout),
        ).api.v2010.accounts(account_sid)

    # Phone numbers

    def number_types(self, country_code):
        """The number types (among ``NUMBER_TYPE_CODES``) Twilio sells in ``country_code``."""
        country = self._send(
            lambda: self._account.available_phone_numbers(country_code).fetch(),
            not_found_error=TelephonyProviderError(COUNTRY_NOT_OFFERED, country_code=country_code),
        )
        return [number_type for number_type in NUMBER_TYPE_CODES
                if number_type in country.subresource_uris]

    def search_numbers(self, country_code, number_type, region=None, contains=None, limit=20):
        """Numbers for sale that can take calls.

        ``region`` is an area code when it is all digits, else a region (state, province...) name;
        ``contains`` a pattern of digits, letters and ``*`` wildcards.
        """
        if number_type not in NUMBER_TYPE_CODES:
            raise TelephonyProviderError(
                NUMBER_TYPE_NOT_OFFERED, number_type=number_type, country_code=country_code)
        numbers = getattr(self._account.available_phone_numbers(country_code), number_type)
        criteria = {'voice_enabled': True, 'limit': limit}
        if region and region.isdigit():
            criteria['area_code'] = int(region)
        elif region:
            criteria['in_region'] = region
        if contains:
            criteria['contains'] = contains
        found = self._send(
            lambda: numbers.list(**criteria),
            not_found_error=TelephonyProviderError(
                NUMBER_TYPE_NOT_OFFERED, number_type=number_type, country_code=country_code),
        )
        return [{
            'phone_number': number.phone_number,
            'friendly_name': number.friendly_name,
            'region': number.region,
            'locality': number.locality,
            'iso_country': number.iso_country,
            # 'none', 'any', 'local' (in the number's country) or 'foreign' (outside it).
            'address_requirements': number.address_requirements or 'none',
            'capabilities': {
                'voice': bool(number.capabilities.get('voice')),
                'sms': bool(number.capabilities.get('sms')),
            },
        } for number in found]

    def create_address(self, customer_name, street, city, region, postal_code, iso_country):
        """Register the customer's address, which some numbers need; returns its sid."""
        address = self._send(lambda: self._account.addresses.create(
            customer_name=customer_name, street=street, city=city, region=region,
            postal_code=postal_code, iso_country=iso_country,
        ))
        return address.sid

    def buy_number(self, phone_number, voice_url, status_callback, friendly_name=None,
                   address_sid=None):
        """Buy ``phone_number`` (E.164) and point its incoming calls at ``voice_url``.

        ``address_sid`` (from ``create_address``) is needed for numbers whose
        ``address_requirements`` is not ``none``.
        """
        number = self._send(
            lambda: self._account.incoming_phone_numbers.create(
                phone_number=phone_number,
                voice_url=voice_url, voice_method='POST',
                status_callback=status_callback, status_callback_method='POST',
                friendly_name=friendly_name,
                **({'address_sid': address_sid} if address_sid else {}),
            ),
            not_found_error=TelephonyProviderError(NUMBER_UNAVAILABLE),
        )
        return _number_dict(number)

    def find_number(self, phone_number):
        """The number ``phone_number`` (E.164) if this account owns it, else None."""
        numbers = self._send(lambda: self._account.incoming_phone_numbers.list(
            phone_number=phone_number, limit=1))
        return _number_dict(numbers[0]) if numbers else None

    def update_number(self, sid, voice_url=None, status_callback=None, friendly_name=None):
        """Change what is given of a bought number's settings; returns them all."""
        changes = {}
        if voice_url:
            changes.update(voice_url=voice_url, voice_method='POST')
        if status_callback:
            changes.update(status_callback=status_callback, status_callback_method='POST')
        if friendly_name:
            changes['friendly_name'] = friendly_name
        number = self._send(lambda: self._account.incoming_phone_numbers(sid).update(**changes))
        return _number_dict(number)

    def release_number(self, sid):
        """Give a bought number back to Twilio; releasing it twice is not an error."""
        self._send(lambda: self._account.incoming_phone_numbers(sid).delete(), missing_ok=True)

    # Custom outgoing caller IDs

    def start_caller_id_validation(self, phone_number, friendly_name, status_callback):
        """Make Twilio call ``phone_number``, where its owner types the returned code.

        Twilio reports the outcome to ``status_callback``; the caller ID then appears in
        ``list_caller_ids``.
        """
        validation = self._send(lambda: self._account.validation_requests.create(
            phone_number=phone_number,
            friendly_name=friendly_name,
            status_callback=status_callback, status_callback_method='POST',
        ))
        return {'validation_code': validation.validation_code, 'call_sid': validation.call_sid}

    def list_caller_ids(self, phone_number=None):
        """Verified caller IDs of the account, all or those of ``phone_number``."""
        caller_ids = self._send(lambda: self._account.outgoing_caller_ids.list(
            **({'phone_number': phone_number} if phone_number else {})))
        return [{'sid': caller_id.sid, 'phone_number': caller_id.phone_number}
                for caller_id in caller_ids]

    def delete_caller_id(self, sid):
        self._send(lambda: self._account.outgoing_caller_ids(sid).delete(), missing_ok=True)

    # Queues and live calls

    def queue_sid(self, friendly_name):
        """The sid of the queue named ``friendly_name``, created if the account has none."""
        # One page: Twilio cannot filter queues by name, and a longer listing would never end
        # against the contract tests' mock, which always announces a next page.
        queues = self._send(lambda: self._account.queues.page(page_size=QUEUE_PAGE_SIZE))
        for queue in queues:
            if queue.friendly_name == friendly_name:
                return queue.sid
        return self._send(lambda: self._account.queues.create(friendly_name=friendly_name)).sid

    def dequeue_member(self, queue_sid, call_sid, url):
        """Send the caller ``call_sid`` waiting in the queue to ``url`` (POST).

        False when Twilio does not have that caller in the queue (they hung up, were dequeued
        already): a retried hand-off takes nobody else out of the queue.
        """
        member = self._send(
            lambda: self._account.queues(queue_sid).members(call_sid).update(url=url, method='POST'),
            missing_ok=True,
        )
        return member is not None

    def redirect_call(self, call_sid, url):
        """Make a live call continue with the TwiML at ``url`` (POST)."""
        self._send(lambda: self._account.calls(call_sid).update(url=url, method='POST'))

    # Applications (the softphone's TwiML App)

    def create_twiml_app(self, friendly_name, voice_url):
        """A TwiML App whose voice URL answers the calls placed from browser softphones;
        returns its sid (AP...)."""
        application = self._send(lambda: self._account.applications.create(
            friendly_name=friendly_name, voice_url=voice_url, voice_method='POST'))
        return application.sid

    def update_twiml_app(self, sid, voice_url):
        """Point the TwiML App ``sid`` at ``voice_url`` (POST); returns its sid."""
        application = self._send(
            lambda: self._account.applications(sid).update(voice_url=voice_url, voice_method='POST'),
            not_found_error=TelephonyProviderError(TWIML_APP_MISSING, sid=sid))
        return application.sid

    # Recordings

    def fetch_recording(self, sid):
        """The audio of recording ``sid``: ``(bytes, mimetype)``.

        The recording's resource says where its media is (``uri``); the media is fetched with the
        account's credentials, as Twilio requires when "HTTP Basic Authentication for media" is
        on (the safe setting this add-on expects).
        """
        recording = self._send(lambda: self._account.recordings(sid).fetch())
        if recording.status and recording.status not in ('completed', 'deleted'):
            raise TelephonyProviderError(RECORDING_NOT_READY, status=recording.status)
        extension, mimetype = RECORDING_FORMAT
        url = self._media_base_url + recording.uri.removesuffix('.json') + extension
        try:
            response = requests.get(url, auth=self._credentials, timeout=self._timeout * 4)
        except RequestException as error:
            raise TelephonyProviderError(NO_ANSWER) from error
        if response.status_code == 429:
            raise TelephonyProviderError(RATE_LIMITED)
        if response.status_code != 200:
            raise TelephonyProviderError(
                REFUSED, detail="recording media answered HTTP %s" % response.status_code,
                code=response.status_code)
        return response.content, response.headers.get('Content-Type', mimetype).split(';')[0]

    def delete_recording(self, sid):
        """Delete recording ``sid`` at Twilio; deleting it twice is not an error."""
        self._send(lambda: self._account.recordings(sid).delete(), missing_ok=True)

    def _send(self, request, not_found_error=None, missing_ok=False):
        """Return ``request()`` (one SDK call), turning every failure into a
        ``TelephonyProviderError`` chained to the original exception.

        A 404 means something different for each call: ``missing_ok`` makes it return None (the
        thing is already gone), ``not_found_error`` replaces the generic message.
        """
        try:
            return request()
        except RequestException as error:
            raise TelephonyProviderError(NO_ANSWER) from error
        except TwilioException as error:
            status, code, detail = _error_facts(error)
            if status == 404 and missing_ok:
                return None
            if status == 401 or code == BAD_CREDENTIALS_CODE:
                raise TelephonyProviderError(BAD_CREDENTIALS) from error
            if status == 429 or code == RATE_LIMITED_CODE:
                raise TelephonyProviderError(RATE_LIMITED) from error
            if code in ADDRESS_REQUIRED_CODES:
                raise TelephonyProviderError(ADDRESS_REQUIRED) from error
            if code in NUMBER_UNAVAILABLE_CODES:
                raise TelephonyProviderError(NUMBER_UNAVAILABLE) from error
            if status == 404 and not_found_error:
                raise not_found_error from error
            raise TelephonyProviderError(REFUSED, detail=detail, code=code) from error


def _error_facts(error):
    """(HTTP status, Twilio error code, Twilio's message) of an SDK exception."""
    if not isinstance(error, (TwilioRestException, TwilioServiceException)):
        # Listings raise a bare TwilioException carrying the HTTP response: let the SDK parse it
        # the way it parses the other calls' failures.
        response = next((arg for arg in error.args if isinstance(arg, Response)), None)
        if response is None:
            return None, None, str(error)
        error = Version.exception('GET', '', response, 'Unable to fetch page')
    if isinstance(error, TwilioServiceException):
        return error.status, error.code, error.detail or error.title
    # The SDK prefixes Twilio's message with its own, e.g. "Unable to create record: ...".
    return error.status, error.code, error.msg.partition(': ')[2] or error.msg


def _number_dict(number):
    return {
        'sid': number.sid,
        'phone_number': number.phone_number,
        'friendly_name': number.friendly_name,
        'voice_url': number.voice_url,
        'status_callback': number.status_callback,
    }
