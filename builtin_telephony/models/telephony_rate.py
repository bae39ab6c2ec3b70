from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import const
from ..tools import rating


class TelephonyRate(models.Model):
    """Credits per started minute of a call, by direction, number prefix and number type (W3).

    Shipped in ``data/telephony.rate.csv``, editable under Telephony > Configuration > Call
    rates. For an outgoing call the prefix is matched against the destination; for an incoming
    call against our number that was called. The most specific row wins (see ``tools/rating.py``).
    """
    _name = 'telephony.rate'
    _description = "Call Rate"
    _order = 'direction, prefix, number_type'

    name = fields.Char("Destination", required=True, help="E.g. United States, United Kingdom mobile.")
    direction = fields.Selection(const.DIRECTIONS, required=True)
    prefix = fields.Char(
        help="Digits the number starts with, country code first and without '+', e.g. 44 or 447. "
             "Empty: every number.")
    number_type = fields.Selection(const.NUMBER_TYPES, help="Type of our number. Empty: every type.")
    price_per_minute = fields.Float("Credits per minute", digits=(16, 4), required=True)

    _sql_constraints = [
        ('rate_uniq', 'unique(direction, prefix, number_type)',
         "There is already a rate for this direction, prefix and number type."),
        ('price_positive', 'CHECK(price_per_minute >= 0)', "A rate cannot be negative."),
        ('price_sane', 'CHECK(price_per_minute <= 100)', "A rate is at most 100 credits per minute."),
    ]

    @api.constrains('prefix')
    def _check_prefix(self):
        for rate in self:
            if rate.prefix and not (rate.prefix.isdigit() and len(rate.prefix) <= 8):
                raise ValidationError(_(
                    "The prefix %(prefix)s must be 1 to 8 digits, country code first, without '+' "
                    "(e.g. 44 or 447).", prefix=rate.prefix))

    @api.model
    def _get_rate(self, direction, phone_number, number_type):
        """The most specific ``rating.Rate`` for a call, or None."""
        digits = rating.number_digits(phone_number)
        # Only the rows whose prefix can match: every prefix of the number, and the empty one.
        candidates = self.sudo().search_fetch(
            [('direction', '=', direction),
             ('prefix', 'in', [digits[:i] for i in range(1, min(len(digits), 8) + 1)] + [False, ''])],
            ['prefix', 'direction', 'number_type', 'price_per_minute'])
        return rating.find_rate(
            [rating.Rate(r.prefix or '', r.direction, r.number_type or '', r.price_per_minute)
             for r in candidates],
            direction, phone_number, number_type)

    @api.model
    def _price_per_minute(self, direction, phone_number, number_type='local'):
        """The price per minute of a call; None when the rate table has no row for it: such a
        call is refused (fail closed), never free."""
        rate = self._get_rate(direction, phone_number, number_type or 'local')
        return rate.price_per_minute if rate else None
