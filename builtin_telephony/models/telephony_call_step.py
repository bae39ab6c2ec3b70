from odoo import api, fields, models


class TelephonyCallStep(models.Model):
    """One step of an incoming call's path through its call flow (SPEC F5): the state it was in,
    what happened there, and when. Written by the webhooks, read on the call's form."""
    _name = 'telephony.call.step'
    _description = "Call Step"
    # Steps are only ever appended, in the order they happen: the id orders them.
    _order = 'call_id, id'

    call_id = fields.Many2one('telephony.call', required=True, ondelete='cascade', index=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    state_ref = fields.Char("State id", help="The id of the state in the flow's definition.")
    state_name = fields.Char("State")
    event = fields.Char(required=True, help="The engine's event code, e.g. 'entered', '1', "
                                             "'timeout', 'ringing', 'answered'.")
    user_id = fields.Many2one('res.users', string="User", help="Who answered, or was rung.")
    description = fields.Char("What happened", compute='_compute_description')

    @api.depends('event', 'user_id')
    def _compute_description(self):
        labels = self._event_labels()
        for step in self:
            if step.event in labels:
                text = labels[step.event]
            elif step.event and len(step.event) == 1:
                text = self.env._("Key %(key)s pressed", key=step.event)
            else:
                text = step.event
            if step.user_id:
                text = f"{text} — {step.user_id.name}"
            step.description = text

    def _event_labels(self):
        _ = self.env._
        return {
            'entered': _("Entered"),
            'next': _("Message played"),
            'timeout': _("Timeout"),
            'busy': _("Busy"),
            'unavailable': _("Unavailable"),
            'invalid_key': _("Invalid key pressed"),
            'ringing': _("Ringing"),
            'queued': _("Put in the queue"),
            'dequeued': _("Taken from the queue: an agent became free"),
            'answered': _("Answered"),
            'bridged': _("Connected from the queue"),
            'voicemail': _("Voicemail left"),
            'hangup': _("Caller hung up"),
            'fault': _("Technical fault: the caller heard an apology"),
            'blocked': _("Rejected: the caller is on the block list"),
            'no_flow': _("Rejected: the number has no published, enabled call flow"),
            'no_credit': _("Refused: not enough credits"),
            'not_allowed': _("Refused: outgoing calls are not allowed for this user"),
            'destination_refused': _("Refused: this destination cannot be called"),
            'no_caller_id': _("Refused: no outgoing caller ID"),
            'dialing': _("Dialing"),
        }
