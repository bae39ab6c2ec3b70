"""The Twilio webhooks of calls (CONTRACTS.md, Twilio-facing routes): thin by design.

Each route is signed (``twilio_route``: 403 and nothing written otherwise) and hands the
request to ``telephony.call``, which answers TwiML or, for callbacks, writes what Twilio reports.
The model never raises from there (SPEC P2): a fault becomes an apology, never a 500.
"""
from odoo import http

from ..models.telephony_call import FLOW_ACTION_PREFIX
from .twilio_webhook import empty_response, twilio_route, twiml_response


class TelephonyVoiceController(http.Controller):

    def _calls(self, account):
        # Twilio is anonymous: the signature, checked before this, is the authorisation; the
        # verified account's environment is sudo, in the account's company.
        return account.env['telephony.call']

    @twilio_route('/telephony/twilio/voice')
    def twilio_voice(self, account, **params):
        """Voice URL of every number: a new incoming call."""
        return twiml_response(self._calls(account)._twilio_answer(account, 'voice', params))

    @twilio_route('/telephony/twilio/client')
    def twilio_client(self, account, **params):
        """Voice URL of the TwiML App: the softphone places a call."""
        return twiml_response(self._calls(account)._twilio_answer(account, 'client', params))

    @twilio_route('/telephony/twilio/outbound_dial')
    def twilio_outbound_dial(self, account, **params):
        """Dial action of an outgoing call."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, 'outbound_dial', params))

    @twilio_route('/telephony/twilio/status')
    def twilio_status(self, account, **params):
        calls = self._calls(account)
        calls._twilio_callback(account, calls._twilio_status, params)
        return empty_response()

    @twilio_route('/telephony/twilio/client_status')
    def twilio_client_status(self, account, **params):
        """Status callback of a softphone leg (``<Client statusCallback>``)."""
        calls = self._calls(account)
        calls._twilio_callback(account, calls._twilio_agent_status, params)
        return empty_response()

    @twilio_route('/telephony/twilio/recording')
    def twilio_recording(self, account, **params):
        recordings = account.env['telephony.recording']
        self._calls(account)._twilio_callback(account, recordings._twilio_recording_status, params)
        return empty_response()

    @twilio_route('/telephony/twilio/flow/<string:action>')
    def twilio_flow_action(self, account, action, **params):
        """The URLs of the TwiML a flow answered (Gather, Dial, Record, Enqueue actions...)."""
        return twiml_response(self._calls(account)._twilio_answer(
            account, FLOW_ACTION_PREFIX + action, params))
