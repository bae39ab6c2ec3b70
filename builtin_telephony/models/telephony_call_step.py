from odoo import api, fields, models

from .. import const


class TelephonyCallStep(models.Model):
    """One step of an incoming call's path through its call flow (F5): the state it was in,
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
        return {event: self.env._(label) for event, label in const.STEP_EVENT_LABELS.items()}
