from odoo import _, api, fields, models
from odoo.exceptions import UserError


class TelephonySandboxCallWizard(models.TransientModel):
    """Sandbox only: someone calls one of our numbers (SPEC C5). The call runs the number's
    flow through the signed webhooks and rings the users it chooses, as a real call would."""
    _name = 'telephony.sandbox.call.wizard'
    _description = "Simulate an incoming call"

    number_id = fields.Many2one('telephony.number', required=True, readonly=True)
    from_number = fields.Char(
        "Caller", required=True,
        help="The number the simulated caller calls from, e.g. the phone of a lead or contact.")
    caller_keys = fields.Char(
        "Keys pressed", help="What the caller presses at the flow's menus, one key per menu "
                             "(e.g. 1). Empty: the caller waits without pressing anything.")
    leave_voicemail = fields.Boolean(
        "Leaves a voicemail", default=True,
        help="When the flow offers a voicemail, the caller leaves a short message.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if 'from_number' in fields_list and not values.get('from_number'):
            lead = self.env['crm.lead'].search([('phone_sanitized', '!=', False)], limit=1)
            values['from_number'] = lead.phone_sanitized or '+12025550143'
        return values

    def action_call(self):
        self.ensure_one()
        if not self.env.user.has_group('builtin_telephony.group_telephony_admin'):
            raise UserError(_("Only telephony administrators can simulate calls."))
        self.env['telephony.sandbox.call']._simulate_incoming(
            self.number_id, self.from_number.strip(), keys=(self.caller_keys or '').strip(),
            leave_voicemail=self.leave_voicemail)
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'info',
                'title': _("Incoming call from %(caller)s", caller=self.from_number),
                'message': _("The call runs the flow of %(number)s and rings the users it chooses: "
                             "answer it in the softphone.", number=self.number_id.phone_number),
                'next': {'type': 'ir.actions.act_window_close'},
            },
        }
