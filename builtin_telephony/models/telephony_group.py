from odoo import _, api, fields, models


class TelephonyGroup(models.Model):
    """A team of telephony users that a call flow can ring together (U2)."""
    _name = 'telephony.group'
    _inherit = ['telephony.account.mixin']
    _description = "Telephony Group"
    _order = 'name, id'

    name = fields.Char(required=True)
    description = fields.Text()
    member_ids = fields.Many2many(
        'telephony.user', 'telephony_group_member_rel', 'group_id', 'user_id',
        string="Members", check_company=True)
    member_count = fields.Integer("Members count", compute='_compute_member_count')

    _sql_constraints = [
        ('name_company_uniq', 'unique(company_id, name)',
         "A telephony group of this name already exists: pick another name."),
    ]

    @api.depends('member_ids')
    def _compute_member_count(self):
        for group in self:
            group.member_count = len(group.member_ids)

    def _members_in_sign_in_order(self):
        """The members in the order sequential ringing tries them (U3): the available ones
        in the order they signed in, then the others by name."""
        self.ensure_one()
        members = self.sudo().member_ids
        available = members.filtered(lambda u: u.availability == 'available' and u.signed_in_at)
        available = available.sorted(lambda u: (u.signed_in_at, u.id))
        return available + (members - available)

    def action_open_members(self):
        """The telephony users list, filtered on this group."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('builtin_telephony.telephony_user_action')
        action['context'] = {'search_default_group_ids': self.id}
        return action

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_published_flow(self):
        self.env['telephony.flow']._check_not_transferred_to(self, 'transfer_group', 'group_id', _(
            "The telephony group %(name)s cannot be deleted: the published call flow %(flows)s "
            "transfers calls to it. Change the flow and publish it again first."))
