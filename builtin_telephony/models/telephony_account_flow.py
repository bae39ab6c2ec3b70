from odoo import fields, models


class TelephonyAccount(models.Model):
    """The Call flows tab of the Built-in Telephony page (SPEC §1, §4): the company's flows,
    the disabled ones included (enabling them again happens there)."""
    _inherit = 'telephony.account'

    flow_ids = fields.One2many('telephony.flow', 'account_id', string="Call flows",
                               context={'active_test': False})
