"""The one error type the provider gateways raise, and its messages.

The gateways are plain Python without an environment: their messages are Odoo's lazy
translations (``LazyTranslate``, as ``sms.tools.sms_api`` does), templates with named
placeholders. ``telephony.account._provider()`` shows them in the user's language::

    except TelephonyProviderError as error:
        raise UserError(error.translated(self.env))
"""
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__, default_lang='en_US')


MISSING_CREDENTIALS = _lt(
    "Enter the Twilio account SID and auth token in Telephony > Built-in Telephony.")
BAD_CREDENTIALS = _lt(
    "Twilio rejected the account SID or auth token. Check them in Telephony > Built-in Telephony.")
NUMBER_UNAVAILABLE = _lt(
    "This number is no longer available at Twilio. Search again and pick another one.")
ADDRESS_REQUIRED = _lt(
    "This number is only sold with an address on file. Choose the address to register "
    "(in the number's country for local numbers) and buy it again.")
RATE_LIMITED = _lt(
    "Twilio is rate-limiting requests. Wait a minute and try again.")
NO_ANSWER = _lt(
    "Twilio did not answer in time. Check the server's internet access and try again.")
REFUSED = _lt(
    "Twilio refused the request: %(detail)s (error %(code)s).")
COUNTRY_NOT_OFFERED = _lt(
    "No phone numbers are available in country %(country_code)s. Pick another country.")
NUMBER_TYPE_NOT_OFFERED = _lt(
    "No %(number_type)s numbers are available in country %(country_code)s. "
    "Pick another number type.")
RECORDING_NOT_READY = _lt(
    "The recording is not ready at the provider yet (%(status)s). It will be downloaded later.")
TWIML_APP_MISSING = _lt(
    "The softphone's TwiML App %(sid)s does not exist at the provider. Create it again, or "
    "clear its SID, in the Softphone section of Telephony > Built-in Telephony.")
INVALID_PHONE_NUMBER = _lt(
    "%(phone_number)s is not a valid phone number in international format, e.g. +14155552671.")


class TelephonyProviderError(Exception):
    """A provider refused or failed a request; ``str(error)`` is the message in English.

    ``template`` (a lazy translation) and ``params`` let the Odoo layer show it translated
    (:meth:`translated`). The provider's own exception, when there is one, is chained as
    ``__cause__``.
    """

    def __init__(self, template, **params):
        self.template = template
        self.params = params
        super().__init__(self._format(template._translate('en_US')))

    def _format(self, text):
        return text % self.params if self.params else text

    def translated(self, env):
        """The message in the language of ``env``."""
        return self._format(env._(self.template))
