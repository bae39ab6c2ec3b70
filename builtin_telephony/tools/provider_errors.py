"""The one error type the provider gateways raise, and its messages.

The gateways are plain Python: they cannot call Odoo's ``_()``. Their messages are therefore
templates with named placeholders, marked with the ``_lt`` no-op below so that Odoo's translation
export (which scans every ``.py`` file of the add-on for ``_()`` and ``_lt()`` calls) collects them.
The Odoo layer translates at display time::

    except TelephonyProviderError as error:
        raise UserError(_(error.template, **error.params)) from error
"""


def _lt(template):
    """Mark ``template`` for translation export; translation happens in the Odoo layer."""
    return template


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
INVALID_PHONE_NUMBER = _lt(
    "%(phone_number)s is not a valid phone number in international format, e.g. +14155552671.")


class TelephonyProviderError(Exception):
    """A provider refused or failed a request; ``str(error)`` is a message for the user.

    ``template`` and ``params`` let the Odoo layer show it translated (see the module docstring).
    The provider's own exception, when there is one, is chained as ``__cause__``.
    """

    def __init__(self, template, **params):
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)
