"""Routes of the browser softphone (docs/contracts.md, routes for the web client): thin by design.

Every route answers only an active telephony user of the current company
(``telephony.user._softphone_user``), about themselves.
"""
from odoo import http
from odoo.http import request


class TelephonySoftphoneController(http.Controller):

    def _telephony_user(self):
        return request.env['telephony.user']._softphone_user()

    @http.route('/telephony/softphone/token', type='json', auth='user', methods=['POST'])
    def softphone_token(self):
        """``{'token', 'identity', 'expires_at', 'provider'}``: an Access Token of one hour for
        the user's own softphone identity."""
        return self._telephony_user()._softphone_token()

    @http.route('/telephony/softphone/state', type='json', auth='user', methods=['POST'])
    def softphone_state(self):
        return self._telephony_user()._softphone_state()

    @http.route('/telephony/softphone/availability', type='json', auth='user', methods=['POST'])
    def softphone_availability(self, available):
        """Signing in to / out of the softphone (U3)."""
        return {'available': self._telephony_user()._softphone_set_available(bool(available))}

    # -- The sandbox device: the server plays Twilio's part (models/telephony_sandbox_call.py) --

    @http.route('/telephony/sandbox/connect', type='json', auth='user', methods=['POST'])
    def sandbox_connect(self, params):
        """The sandbox device places a call (Twilio's ``Device.connect({params})``)."""
        telephony_user = self._telephony_user()
        return request.env['telephony.sandbox.call']._place_outgoing(telephony_user, dict(params or {}))

    @http.route('/telephony/sandbox/signals', type='json', auth='user', methods=['POST'])
    def sandbox_signals(self):
        """The calls ringing the user's sandbox device (its signalling channel)."""
        return request.env['telephony.sandbox.call']._ringing_for(self._telephony_user())

    @http.route('/telephony/sandbox/act', type='json', auth='user', methods=['POST'])
    def sandbox_act(self, call_sid, action, digits=''):
        """accept / reject / no_answer / disconnect / digits on a sandbox call of the user."""
        telephony_user = self._telephony_user()
        call = request.env['telephony.sandbox.call'].sudo().search(
            [('call_sid', '=', call_sid), ('account_id', '=', telephony_user.account_id.id)], limit=1)
        if not call:
            return {'call_sid': call_sid, 'state': 'ended', 'said': []}
        return call._act(telephony_user, action, digits)

    @http.route('/telephony/softphone/note', type='json', auth='user', methods=['POST'])
    def softphone_note(self, body, call_id=None, call_sid=None):
        """A note on the current (or just ended) call, written in the softphone; it also
        reaches the call's lead. Only on a call the user may read."""
        self._telephony_user()
        return request.env['telephony.call']._softphone_note(body, call_id=call_id, call_sid=call_sid)
