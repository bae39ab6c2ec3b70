"""Phone numbers as the telephony layer stores and compares them: E.164 strings.

Built on ``phone_validation`` (Odoo's wrapper of the phonenumbers library), so that numbers are
understood the way the rest of Odoo understands them: spaces, dashes, brackets, a national
number read with the company's country, a ``00`` international prefix.
"""
import phonenumbers

from odoo.exceptions import UserError

from odoo.addons.phone_validation.tools.phone_validation import phone_format


def to_e164(number, country_code=None, raise_exception=True):
    """``number`` in E.164 (``+34910000142``), read with ``country_code`` when it is national.

    :raise odoo.exceptions.UserError: (when ``raise_exception``) a number that cannot be
        dialled, with phone_validation's explanation; otherwise return False for it.
    """
    if not number:
        return False
    number = number.strip()
    if number.startswith('00'):
        # The international call prefix of most countries; phonenumbers only reads it when it
        # knows the caller's country.
        number = '+' + number[2:]
    country_code = (country_code or '').upper() or None
    phone_code = country_code and phonenumbers.country_code_for_region(country_code) or None
    try:
        return phone_format(number, country_code, phone_code, force_format='E164')
    except UserError:
        if raise_exception:
            raise
        return False


# What Twilio sends as ``From`` when the caller withheld their number: words, and the fake
# numbers it substitutes for them (Anonymous, Restricted, Unknown, Unavailable).
WITHHELD_CALLER_IDS = {'', 'anonymous', 'restricted', 'private', 'unknown', 'unavailable', 'blocked',
                       '+266696687', '+7378742833', '+86282452253', '+2562533'}


def possible_e164(number, country_code=None):
    """``number`` in E.164 when it is a *possible* number (right length for its country), else False.

    Unlike :func:`to_e164`, a number that no carrier has been assigned yet is accepted: that is
    what spoofed caller IDs often are, and the block list must be able to hold them.
    """
    if not number:
        return False
    number = number.strip()
    if number.startswith('00'):
        number = '+' + number[2:]
    try:
        parsed = phonenumbers.parse(number, (country_code or '').upper() or None)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_possible_number(parsed):
        return False
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_withheld(number):
    """Whether a caller ID means "withheld": empty, one of Twilio's markers, or no phone number."""
    cleaned = (number or '').strip().lower()
    return cleaned in WITHHELD_CALLER_IDS or not any(char.isdigit() for char in cleaned)


def country_prefix(e164):
    """The country calling code of an E.164 number (``+8613800138000`` → ``86``), or None."""
    try:
        return phonenumbers.parse(e164).country_code
    except phonenumbers.NumberParseException:
        return None


def country_code_of(e164):
    """The ISO code of the country of an E.164 number (``+33612345678`` → ``FR``; a number
    shared by several countries, as +1 is, is placed by its area code), or None."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    # A number no carrier was given yet has no region: its calling code's main country.
    code = (phonenumbers.region_code_for_number(parsed)
            or phonenumbers.region_code_for_country_code(parsed.country_code))
    return code if code and code != phonenumbers.UNKNOWN_REGION else None


def format_international(e164):
    """``+14155550100`` → ``+1 415-555-0100``: how a person reads a number (I6); the data keeps
    E.164. Anything that does not parse (``client:…`` identities, withheld callers) is returned
    as is."""
    if not e164:
        return e164 or ''
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# phonenumbers' type of a number → our number type; every other type is 'local'.
PHONENUMBERS_TYPES = {phonenumbers.PhoneNumberType.MOBILE: 'mobile',
                      phonenumbers.PhoneNumberType.TOLL_FREE: 'toll_free'}


def number_type_of(e164):
    """Our number type of a destination: 'mobile', 'toll_free' or 'local' (the rate to apply)."""
    try:
        return PHONENUMBERS_TYPES.get(phonenumbers.number_type(phonenumbers.parse(e164)), 'local')
    except phonenumbers.NumberParseException:
        return 'local'
