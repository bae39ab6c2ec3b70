from odoo import api, fields, models


class TelephonyUser(models.Model):
    """An Odoo user who may place and answer calls, in one company (SPEC U1, U3)."""
    _name = 'telephony.user'
    _description = "Telephony User"
    _order = 'name, id'

    user_id = fields.Many2one('res.users', string="User", required=True, index=True,
                              ondelete='cascade', domain="[('share', '=', False)]")
    name = fields.Char(related='user_id.name', store=True)
    company_id = fields.Many2one('res.company', required=True, index=True,
                                 default=lambda self: self.env.company)
    group_ids = fields.Many2many(
        'telephony.group', 'telephony_group_member_rel', 'user_id', 'group_id',
        string="Telephony groups")
    allow_outbound = fields.Boolean("Allow outgoing calls", default=True)
    record_outbound = fields.Boolean("Record outgoing calls made by this user")
    caller_id_number_ids = fields.Many2many(
        'telephony.number', string="Outgoing caller IDs",
        domain="[('company_id', '=', company_id)]",
        help="The purchased numbers this user may show to the people they call.")
    allow_custom_caller_id = fields.Boolean(
        "Allow custom outgoing caller IDs",
        help="Let the user call from a verified number of their own (e.g. a support line), so "
             "that callbacks reach it.")
    availability = fields.Selection(
        [('available', "Available"), ('offline', "Offline")], required=True, default='offline',
        help="Set by the softphone: available while the user is signed in.")
    is_busy = fields.Boolean(compute='_compute_is_busy', help="On a call right now.")

    _sql_constraints = [
        ('user_company_uniq', 'unique(user_id, company_id)',
         "This user is already a telephony user of this company."),
    ]

    def _compute_is_busy(self):
        busy_users = self.env['telephony.call'].sudo()._read_group(
            [('user_id', 'in', self.user_id.ids), ('status', 'in', ('ringing', 'in_progress'))],
            ['user_id'])
        busy = {user.id for user, in busy_users}
        for telephony_user in self:
            telephony_user.is_busy = telephony_user.user_id.id in busy
