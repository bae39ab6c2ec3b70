import phonenumbers

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
        """Hook run once the number is bought and recorded (e.g. charge the first month)."""
        return True

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
