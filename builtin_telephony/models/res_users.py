from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .telephony_user import AVAILABILITY

TELEPHONY_PREFERENCE_FIELDS = ['telephony_availability', 'is_telephony_user']


class ResUsers(models.Model):
    """A user's own telephony settings, in their Preferences (as ``mail`` does for
    ``notification_type``): their availability in the current company."""
    _inherit = 'res.users'

    telephony_user_ids = fields.One2many('telephony.user', 'user_id', string="Telephony users")
    is_telephony_user = fields.Boolean(
        "Is a telephony user", compute='_compute_telephony_availability')
    telephony_availability = fields.Selection(
        AVAILABILITY, string="Telephony availability",
        compute='_compute_telephony_availability', inverse='_inverse_telephony_availability',
        help="Available: calls that the call flows put through to you ring your softphone. "
             "Offline: they skip you.")

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + TELEPHONY_PREFERENCE_FIELDS

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return super().SELF_WRITEABLE_FIELDS + ['telephony_availability']

    def _telephony_user(self):
        """The telephony user (sudo) of this user in the current company, if any."""
        self.ensure_one()
        return self.env['telephony.user'].sudo().search(
            [('user_id', '=', self.id), ('company_id', '=', self.env.company.id)], limit=1)

    @api.depends_context('company')
    @api.depends('telephony_user_ids.availability')
    def _compute_telephony_availability(self):
        telephony_users = self.env['telephony.user'].sudo().search_fetch(
            [('user_id', 'in', self.ids), ('company_id', '=', self.env.company.id)],
            ['user_id', 'availability'])
        availability = {telephony_user.user_id.id: telephony_user.availability
                        for telephony_user in telephony_users}
        for user in self:
            user.is_telephony_user = user.id in availability
            user.telephony_availability = availability.get(user.id, False)

    def _inverse_telephony_availability(self):
        for user in self:
            telephony_user = user._telephony_user()
            if not telephony_user:
                if user.telephony_availability:
                    raise UserError(_(
                        "%(user)s is not a telephony user of %(company)s. Ask a telephony "
                        "administrator to add them in Telephony > Built-in Telephony > Telephony "
                        "users.", user=user.name, company=self.env.company.name))
                continue
            telephony_user.availability = user.telephony_availability or 'offline'

    def action_open_my_caller_ids(self):
        """The user's custom outgoing caller IDs, where they add and verify them."""
        self.ensure_one()
        telephony_user = self._telephony_user()
        if not telephony_user.allow_custom_caller_id:
            raise UserError(_(
                "You may not use custom outgoing caller IDs in %(company)s. Ask a telephony "
                "administrator to allow it in Telephony > Built-in Telephony > Telephony users.",
                company=self.env.company.name))
        return {
            'type': 'ir.actions.act_window',
            'name': _("My caller IDs"),
            'res_model': 'telephony.caller.id',
            'view_mode': 'list,form',
            'domain': [('telephony_user_id', '=', telephony_user.id)],
            'context': {'default_telephony_user_id': telephony_user.id},
        }

    # ------------------------------------------------------------------------------------------
    # The Telephony / User access right follows the Telephony users tab (I3)
    # ------------------------------------------------------------------------------------------

    def _telephony_grant_access(self):
        """Give the Telephony / User access right to these users (added as telephony users), so
        that they can open Telephony and use the softphone."""
        group = self.env.ref('builtin_telephony.group_telephony_user')
        missing = self.filtered(lambda user: not user.share and group not in user.groups_id)
        if missing:
            group.sudo().write({'users': [(4, user.id) for user in missing]})

    def _telephony_revoke_access(self):
        """Take the Telephony / User access right back from these users once they are telephony
        users of no company, unless they are telephony administrators."""
        group = self.env.ref('builtin_telephony.group_telephony_user')
        admin_group = self.env.ref('builtin_telephony.group_telephony_admin')
        still_users = set(self.env['telephony.user'].sudo().search(
            [('user_id', 'in', self.ids)]).user_id.ids)
        revoke = self.sudo().filtered(lambda user: user.id not in still_users
                                      and admin_group not in user.groups_id
                                      and group in user.groups_id)
        if revoke:
            group.sudo().write({'users': [(3, user.id) for user in revoke]})
