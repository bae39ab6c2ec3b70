"""The Twilio webhooks of calls (docs/contracts.md, Twilio-facing routes): thin by design.

Each route is signed (``twilio_route``: 403 and nothing written otherwise) and names the
``telephony.call`` method that answers it: ``_twilio_answer(account, <method>, params)`` for the
routes answered with TwiML, ``_twilio_callback(account, <method>, params)`` for the callbacks.
The model never raises from there: a fault becomes an apology, never a 500.
"""
from odoo import http

from .. import const
from .twilio_webhook import empty_response, twilio_route, twiml_response


class TelephonyVoiceController(http.Controller):

    def _calls(self, account):
        # Twilio is anonymous: the signature, checked before this, is the authorisation; the
        # verified account's environment is sudo, in the account's company.
        return account.env['telephony.call']

    @twilio_route(const.VOICE_ROUTE)
    def twilio_voice(self, account, **params):
        """Voice URL of every number: a new incoming call."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_voice, params))

    @twilio_route(const.CLIENT_ROUTE)
    def twilio_client(self, account, **params):
        """Voice URL of the TwiML App: the softphone places a call."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_outgoing, params))

    @twilio_route(const.OUTBOUND_DIAL_ROUTE)
    def twilio_outbound_dial(self, account, **params):
        """Dial action of an outgoing call."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_outbound_dial, params))

    @twilio_route(const.STATUS_ROUTE, answers_twiml=False)
    def twilio_status(self, account, **params):
        calls = self._calls(account)
        calls._twilio_callback(account, calls._twilio_status, params)
        return empty_response()

    @twilio_route(const.CLIENT_STATUS_ROUTE, answers_twiml=False)
    def twilio_client_status(self, account, **params):
        """Status callback of a softphone leg (``<Client statusCallback>``)."""
        calls = self._calls(account)
        calls._twilio_callback(account, calls._twilio_agent_status, params)
        return empty_response()

    @twilio_route(const.RECORDING_ROUTE, answers_twiml=False)
    def twilio_recording(self, account, **params):
        recordings = account.env['telephony.recording']
        self._calls(account)._twilio_callback(account, recordings._twilio_recording_status, params)
        return empty_response()

    @twilio_route(const.TRANSCRIPTION_ROUTE)
    def twilio_transcription(self, account, **params):
        """Transcription callback of a voicemail (``<Record transcribeCallback>``)."""
        calls = self._calls(account)
        calls._twilio_callback(account, calls._twilio_transcription, params)
        return empty_response()

    # The action URLs of the TwiML a call flow answered (const.FLOW_ROUTE + action).

    @twilio_route(const.FLOW_ROUTE + 'gather')
    def twilio_flow_gather(self, account, **params):
        """Gather action of an IVR state."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_gather, params))

    @twilio_route(const.FLOW_ROUTE + 'dial')
    def twilio_flow_dial(self, account, **params):
        """Dial action of a transfer state."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_dial, params))

    @twilio_route(const.FLOW_ROUTE + 'record')
    def twilio_flow_record(self, account, **params):
        """Record action of a voicemail state."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_record, params))

    @twilio_route(const.FLOW_ROUTE + 'queue_wait')
    def twilio_flow_queue_wait(self, account, **params):
        """waitUrl of a queue."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_queue_wait, params))

    @twilio_route(const.FLOW_ROUTE + 'queue_key')
    def twilio_flow_queue_key(self, account, **params):
        """Gather action of a queue's call-back offer."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_queue_key, params))

    @twilio_route(const.FLOW_ROUTE + 'queue_result')
    def twilio_flow_queue_result(self, account, **params):
        """Enqueue action: the caller left the queue."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_queue_result, params))

    @twilio_route(const.FLOW_ROUTE + 'connect')
    def twilio_flow_connect(self, account, **params):
        """Where a queued caller is sent when a user became free."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_connect, params))

    @twilio_route(const.FLOW_ROUTE + 'event')
    def twilio_flow_event(self, account, **params):
        """A Redirect of ours: leave a state through an event."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_event, params))

    @twilio_route(const.FLOW_ROUTE + '<string:action>')
    def twilio_flow_unknown(self, account, action, **params):
        """A flow URL this add-on never builds: signed all the same, so the caller hears the
        apology rather than an error page."""
        calls = self._calls(account)
        return twiml_response(calls._twilio_answer(account, calls._twilio_unknown_action, params))
