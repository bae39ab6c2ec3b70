"""Rating of calls: plain Python over plain data, no ORM (W3).

A rate is a price per started minute for calls in one ``direction`` (``inbound``/``outbound``)
whose number starts with ``prefix`` (digits of the E.164 number, without the ``+``; an empty prefix
matches every number), optionally restricted to one ``number_type`` of our number (``local`` /
``mobile`` / ``toll_free``; empty: every type). The most specific rate wins: the longest prefix,
then a rate for the exact number type over a rate for every type.
"""
import math
from collections import namedtuple
from decimal import ROUND_HALF_UP, Decimal

Rate = namedtuple('Rate', ['prefix', 'direction', 'number_type', 'price_per_minute'])

# Twilio refuses a <Dial timeLimit> above four hours; it is also the longest call we ever allow.
MAX_CALL_SECONDS = 4 * 60 * 60
CREDIT_DIGITS = Decimal('0.0001')


def number_digits(phone_number):
    """``+1 (415) 555-0100`` → ``14155550100``: the digits a prefix is matched against."""
    return ''.join(ch for ch in (phone_number or '') if ch.isdigit())


def find_rate(rates, direction, phone_number, number_type):
    """The most specific rate of ``rates`` for a call, or None when no rate applies."""
    digits = number_digits(phone_number)
    best, best_key = None, None
    for rate in rates:
        if rate.direction != direction or not digits.startswith(rate.prefix or ''):
            continue
        if rate.number_type and rate.number_type != number_type:
            continue
        key = (len(rate.prefix or ''), bool(rate.number_type))
        if best_key is None or key > best_key:
            best, best_key = rate, key
    return best


def billable_minutes(duration):
    """Minutes charged for ``duration`` seconds: every started minute counts; 0 s costs nothing."""
    return math.ceil(max(duration or 0, 0) / 60)


def call_credits(price_per_minute, duration):
    """Credits of a call of ``duration`` seconds at ``price_per_minute``, to 4 decimals."""
    amount = Decimal(str(price_per_minute)) * billable_minutes(duration)
    return float(amount.quantize(CREDIT_DIGITS, rounding=ROUND_HALF_UP))


def affordable_seconds(available_credits, price_per_minute):
    """How long a call may last (whole minutes, in seconds) with ``available_credits``.

    0 when not even one minute can be paid; :data:`MAX_CALL_SECONDS` for a free destination.
    """
    if price_per_minute <= 0:
        return MAX_CALL_SECONDS if available_credits >= 0 else 0
    minutes = math.floor(Decimal(str(max(available_credits, 0))) / Decimal(str(price_per_minute)))
    return min(int(minutes) * 60, MAX_CALL_SECONDS)
