from odoo import fields, models


class TelephonyBlockedNumber(models.Model):
    """A number that may not call in, nor be called (SPEC U4)."""
    _name = 'telephony.blocked.number'
    _description = "Blocked Number"
    _order = 'phone_number'
    _rec_name = 'phone_number'

    phone_number = fields.Char("Number", required=True, help="In E.164 form.")
    note = fields.Char()
    company_id = fields.Many2one('res.company', required=True, index=True,
                                 default=lambda self: self.env.company)

    _sql_constraints = [
        ('phone_company_uniq', 'unique(company_id, phone_number)', "This number is already blocked."),
    ]
