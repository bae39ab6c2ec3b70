import phonenumbers
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models

NUMBER_TYPES = [('local', "Local"), ('mobile', "Mobile"), ('toll_free', "Toll-free")]


class TelephonyNumber(models.Model):
    """A phone number bought from the provider; its incoming calls run its call flow."""
    _name = 'telephony.number'
    _description = "Phone Number"
    _order = 'phone_number'
    _rec_name = 'phone_number'

    phone_number = fields.Char("Number", required=True, readonly=True, index=True,
                               help="In E.164 form, e.g. +14155550100.")
    account_id = fields.Many2one('telephony.account', required=True, readonly=True,
                                 ondelete='cascade', index=True)
    company_id = fields.Many2one(related='account_id.company_id', store=True, index=True)
    country_id = fields.Many2one('res.country', required=True, readonly=True)
    number_type = fields.Selection(NUMBER_TYPES, required=True, readonly=True)
    monthly_price = fields.Float("Credits per month", digits=(16, 2), readonly=True)
    provider_sid = fields.Char("Provider ID", readonly=True, copy=False, index=True)
    purchase_date = fields.Date(readonly=True, default=fields.Date.context_today)
    paid_until = fields.Date(
        readonly=True, copy=False,
        help="The next monthly anniversary of the purchase: the day the next month is charged.")
    flow_id = fields.Many2one(
        'telephony.flow', string="Call flow", index=True, ondelete='set null',
        domain="[('company_id', '=', company_id)]",
        help="The call flow that answers incoming calls on this number. A number without a "
             "published, enabled flow rejects incoming calls.")

    _sql_constraints = [
        ('phone_number_uniq', 'unique(phone_number)', "This number is already in use."),
    ]

    @api.depends('phone_number')
    def _compute_display_name(self):
        for number in self:
            number.display_name = format_international(number.phone_number)

    def _after_purchase(self):
        """Charge the first month as soon as the number is bought (SPEC N2)."""
        for number in self:
            number._charge_month()
        return True

    def _charge_month(self):
        """Charge the month starting at ``paid_until`` (the purchase date for the first one).

        Months run from the purchase date's anniversary (bought on the 31st: the 28th/29th of
        February, then the 31st of March). The reference names the number and the month's first
        day, so the same month is never charged twice, however often the cron runs.
        """
        self.ensure_one()
        purchase_date = self.purchase_date or fields.Date.context_today(self)
        start = self.paid_until or purchase_date
        self.account_id._charge(
            'number', self.monthly_price, 'number-%s-%s' % (self.id, start.isoformat()),
            number_id=self.id,
            description=_("%(number)s, month from %(start)s", number=self.phone_number,
                          start=fields.Date.to_string(start)))
        # Counted from the purchase date, not from the previous month, so that a short month
        # does not move the anniversary for good (31 Jan → 29 Feb → 31 Mar).
        months = 1
        while purchase_date + relativedelta(months=months) <= start:
            months += 1
        self.paid_until = purchase_date + relativedelta(months=months)

    @api.model
    def _cron_charge_monthly(self):
        """Charge every month that has begun for each number (all missed months included)."""
        today = fields.Date.context_today(self)
        # A number recorded without a purchase (imported, demo data) has no month paid yet.
        numbers = self.sudo().search(['|', ('paid_until', '=', False), ('paid_until', '<=', today)])
        for number in numbers:
            while not number.paid_until or number.paid_until <= today:
                number._charge_month()

    def action_release(self):
        """Release the numbers at the provider, then forget them (SPEC N4)."""
        for number in self:
            number.account_id._provider_call('release_number', number.provider_sid)
            number.account_id.message_post(body=_("Phone number %s deleted and released.", number.display_name))
        self.unlink()
        return True


def format_international(e164):
    """``+14155550100`` → ``+1 415-555-0100``; anything unparsable is returned as is."""
    if not e164:
        return e164 or ''
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
