from odoo import fields, models


class TelephonyAccount(models.Model):
    """The Telephony users and Telephony groups tabs of the Built-in Telephony page (SPEC §1, U1,
    U2, U4): the company's telephony users, groups and block list, edited in place."""
    _inherit = 'telephony.account'

    telephony_user_ids = fields.One2many('telephony.user', 'account_id', string="Telephony users")
    telephony_group_ids = fields.One2many('telephony.group', 'account_id', string="Telephony groups")
    blocked_number_ids = fields.One2many('telephony.blocked.number', 'account_id',
                                         string="Block list")
