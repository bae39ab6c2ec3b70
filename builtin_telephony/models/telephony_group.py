from odoo import fields, models


class TelephonyGroup(models.Model):
    """A team of telephony users that a call flow can ring together (SPEC U2)."""
    _name = 'telephony.group'
    _description = "Telephony Group"
    _order = 'name, id'

    name = fields.Char(required=True)
    description = fields.Text()
    company_id = fields.Many2one('res.company', required=True, index=True,
                                 default=lambda self: self.env.company)
    member_ids = fields.Many2many(
        'telephony.user', 'telephony_group_member_rel', 'group_id', 'user_id',
        string="Members", domain="[('company_id', '=', company_id)]")
