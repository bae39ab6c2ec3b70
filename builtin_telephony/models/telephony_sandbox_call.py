"""The sandbox's switchboard: the server plays Twilio's part for the softphone's sandbox device.

On the ``sandbox`` provider, nothing reaches a carrier, yet the softphone must place, ring,
answer and end calls "through the same signed webhooks" as Twilio's (C5): a call placed
from the browser is a signed request to ``/telephony/twilio/client``, an incoming call a signed
request to ``/telephony/twilio/voice``, and everything after follows the TwiML the add-on
answered, as Twilio would (see ``tests/twilio_driver.py``, which this mirrors). Requests are
dispatched in-process through Odoo's WSGI application (``odoo.http.root``), so that they work
the same on one worker, many workers, and in the test server.

What Twilio keeps between two requests of a call (the ``<Dial>`` waiting, the legs ringing) is
kept here, in the database, since the next request may reach another worker or server.
The simulated people: the callee of an outgoing call answers at once; an incoming caller
presses the keys given when simulating the call, one per menu, and leaves a short voicemail
when asked to.
"""
import io
import itertools
import logging
import secrets
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..const import CLIENT_ROUTE, STATUS_ROUTE, VOICE_ROUTE

_logger = logging.getLogger(__name__)

# Seconds of message a simulated caller leaves at a <Record>, and what Twilio would transcribe.
VOICEMAIL_SECONDS = 8
SANDBOX_TRANSCRIPTION = ("Hi, this is a message for the sales team. I would like a quote for "
                         "twenty licences before the end of the month. Please call me back. "
                         "Thank you.")
# A TwiML document runs at most this many <Redirect>s and requests (a flow has no cycle, but a
# broken answer must not loop the sandbox forever).
MAX_REQUESTS = 50


def new_sid(prefix):
    return prefix + secrets.token_hex(16)


class TelephonySandboxCall(models.Model):
    _name = 'telephony.sandbox.call'
    _description = "Sandbox call (the simulated provider's side)"
    _order = 'id desc'

    account_id = fields.Many2one('telephony.account', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='account_id.company_id', store=True)
    call_sid = fields.Char(required=True, index=True)
    direction = fields.Selection([('inbound', "Incoming"), ('outbound', "Outgoing")], required=True)
    from_number = fields.Char()
    to_number = fields.Char()
    state = fields.Selection([('ringing', "Ringing"), ('in_progress', "In progress"),
                              ('ended', "Ended")], default='ringing', required=True, index=True)
    # The <Dial> the call waits on (its XML), and the verbs after it.
    waiting_dial = fields.Text()
    # {identity: leg sid} of the softphones the <Dial> rings; the parameters of their <Client>.
    legs = fields.Json(default=dict)
    leg_parameters = fields.Json(default=dict)
    ended_legs = fields.Json(default=list)
    answered_identity = fields.Char()
    answer_date = fields.Datetime()
    start_date = fields.Datetime(default=fields.Datetime.now)
    seconds = fields.Integer(help="Simulated seconds elapsed before the current <Dial>.")
    caller_keys = fields.Char(help="Keys the simulated caller still presses, one per menu.")
    leave_voicemail = fields.Boolean(default=True)
    said = fields.Json(default=list, help="What the caller heard (<Say>), for the softphone.")

    _sql_constraints = [('call_sid_uniq', 'unique(call_sid)', "A call is simulated once.")]

    # ------------------------------------------------------------------------------------------
    # What the softphone's sandbox device asks for (controllers/softphone.py)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _place_outgoing(self, telephony_user, params):
        """The sandbox device's ``connect()``: Twilio requests the TwiML App's voice URL."""
        account = telephony_user.account_id.sudo()
        self._check_sandbox(account)
        call = self.sudo().create({
            'account_id': account.id, 'call_sid': new_sid('CA'), 'direction': 'outbound',
            'from_number': 'client:' + telephony_user.client_identity,
            'to_number': params.get('To') or '',
        })
        extra = {key: str(value) for key, value in params.items()
                 if key in ('To', 'CallerId', 'ResModel', 'ResId') and value not in (None, '')}
        call._run(call._request(CLIENT_ROUTE, CallStatus='ringing', Direction='inbound', **extra))
        return call._device_state(telephony_user.client_identity)

    @api.model
    def _simulate_incoming(self, number, from_number, keys='', leave_voicemail=True):
        """Someone calls ``number`` from ``from_number``: Twilio requests its voice URL."""
        account = number.account_id.sudo()
        self._check_sandbox(account)
        call = self.sudo().create({
            'account_id': account.id, 'call_sid': new_sid('CA'), 'direction': 'inbound',
            'from_number': from_number, 'to_number': number.phone_number,
            'caller_keys': keys or '', 'leave_voicemail': leave_voicemail,
        })
        call._run(call._request(VOICE_ROUTE, CallStatus='ringing'))
        return call

    @api.model
    def _ringing_for(self, telephony_user):
        """The calls ringing this softphone now (the device's signalling channel)."""
        identity = telephony_user.client_identity
        calls = self.sudo().search([('account_id', '=', telephony_user.account_id.id),
                                    ('state', '=', 'ringing'), ('direction', '=', 'inbound')])
        return [{
            'call_sid': call.call_sid,
            'leg_sid': call.legs[identity],
            'from': call.from_number,
            'parameters': call.leg_parameters.get(identity, {}),
            'timeout': call._dial_timeout(),
        } for call in calls if identity in (call.legs or {}) and identity not in (call.ended_legs or [])]

    def _act(self, telephony_user, action, digits=''):
        """What the softphone of ``telephony_user`` does with this call."""
        self.ensure_one()
        self.env.cr.execute('SELECT id FROM telephony_sandbox_call WHERE id = %s FOR UPDATE',
                            [self.id])
        self.invalidate_recordset()
        identity = telephony_user.client_identity
        is_caller = self.direction == 'outbound' and self.from_number == 'client:' + identity
        if not is_caller and identity not in (self.legs or {}):
            raise UserError(_("This call is not yours."))
        if self.state == 'ended':
            return self._device_state(identity)
        if action == 'accept' and self.state == 'ringing' and not is_caller:
            self._answer(identity)
        elif action in ('reject', 'no_answer') and self.state == 'ringing' and not is_caller:
            self._leg_gives_up(identity, 'no-answer')
        elif action == 'disconnect':
            if is_caller or self.answered_identity == identity:
                self._hang_up()
            elif self.state == 'ringing':
                self._leg_gives_up(identity, 'no-answer')
        elif action == 'digits':
            _logger.info("Sandbox call %s: keys %s sent", self.call_sid, digits)
        return self._device_state(identity)

    def _device_state(self, identity):
        self.ensure_one()
        ended = self.state == 'ended' or identity in (self.ended_legs or [])
        return {
            'call_sid': self.call_sid,
            'state': 'ended' if ended else self.state,
            'said': self.said or [],
        }

    @api.model
    def _check_sandbox(self, account):
        if account.provider != 'sandbox':
            raise UserError(_("Calls can only be simulated on the sandbox provider."))

    # ------------------------------------------------------------------------------------------
    # Twilio's part
    # ------------------------------------------------------------------------------------------

    def _params(self, **extra):
        self.ensure_one()
        params = {
            'AccountSid': self.account_id.twilio_account_sid,
            'ApiVersion': '2010-04-01',
            'CallSid': self.call_sid,
            'CallStatus': 'in-progress',
            'Direction': 'inbound',
            'From': self.from_number,
            'To': self.to_number,
            'Caller': self.from_number,
            'Called': self.to_number,
        }
        params.update({key: str(value) for key, value in extra.items()})
        return params

    def _dispatch(self, url, params):
        """POST ``params`` to ``url``, signed with the account's key, as Twilio does: through
        Odoo's WSGI application, in this process. Returns (status code, body)."""
        from odoo.http import root  # noqa: PLC0415 -- the WSGI application, once Odoo is loaded
        account = self.account_id
        signature = RequestValidator(account.twilio_auth_token).compute_signature(url, params)
        parts = urlsplit(url)
        builder = EnvironBuilder(
            path=parts.path, query_string=parts.query, method='POST', data=params,
            base_url=f'{parts.scheme}://{parts.netloc}',
            headers={'X-Twilio-Signature': signature})
        environ = builder.get_environ()
        environ['REMOTE_ADDR'] = '127.0.0.1'
        status = []
        body = io.BytesIO()

        def start_response(status_line, headers, exc_info=None):
            status.append(int(status_line.split()[0]))
            return body.write

        for chunk in root(environ, start_response):
            body.write(chunk)
        # What the webhook wrote is read from the database again, not from this cache.
        self.env.invalidate_all()
        return status[0], body.getvalue()

    def _request(self, route_or_url, **extra):
        """Request a TwiML URL for the call; returns the verbs answered."""
        url = route_or_url if '://' in route_or_url else self.account_id._webhook_url(route_or_url)
        status, body = self._dispatch(url, self._params(**extra))
        if status != 200:
            raise UserError(_("The sandbox call could not go on: the webhook answered %(status)s.",
                              status=status))
        return list(ET.fromstring(body))

    def _callback(self, url, **extra):
        self._dispatch(url, self._params(**extra))

    def _elapsed(self):
        self.ensure_one()
        if not self.answer_date:
            return self.seconds
        return self.seconds + int((fields.Datetime.now() - self.answer_date).total_seconds())

    def _run(self, verbs):
        """Execute TwiML verb by verb until the call waits (a <Dial>) or ends."""
        self.ensure_one()
        verbs = list(verbs)
        said = list(self.said or [])
        for _request in itertools.count():
            if not verbs or _request > MAX_REQUESTS:
                break
            verb = verbs.pop(0)
            tag = verb.tag
            if tag == 'Say':
                said.append(verb.text or '')
                self.seconds += 3
            elif tag in ('Play', 'Pause'):
                self.seconds += 3
            elif tag == 'Redirect':
                verbs = self._request(verb.text)
            elif tag == 'Gather':
                said += [nested.text or '' for nested in verb if nested.tag == 'Say']
                keys = self.caller_keys or ''
                if keys:
                    self.caller_keys = keys[1:]
                    verbs = self._request(verb.get('action'), Digits=keys[0], FinishedOnKey='')
                else:
                    self.seconds += int(verb.get('timeout') or 5)
            elif tag == 'Record':
                if self.leave_voicemail and self.direction == 'inbound':
                    self.seconds += VOICEMAIL_SECONDS
                    recording = {'RecordingSid': new_sid('RE'), 'RecordingDuration': VOICEMAIL_SECONDS}
                    recording['RecordingUrl'] = (
                        'https://api.twilio.com/2010-04-01/Accounts/%s/Recordings/%s'
                        % (self.account_id.twilio_account_sid, recording['RecordingSid']))
                    after = self._request(verb.get('action'), Digits='hangup', **recording)
                    if verb.get('recordingStatusCallback'):
                        self._callback(verb.get('recordingStatusCallback'),
                                       RecordingStatus='completed', RecordingSource='RecordVerb',
                                       RecordingChannels=1, **recording)
                    if verb.get('transcribe') == 'true' and verb.get('transcribeCallback'):
                        # Twilio transcribes the message after the call; the sandbox's caller
                        # always says the same thing.
                        self._callback(verb.get('transcribeCallback'),
                                       TranscriptionSid=new_sid('TR'),
                                       TranscriptionText=SANDBOX_TRANSCRIPTION,
                                       TranscriptionStatus='completed', TranscriptionType='fast',
                                       **recording)
                    verbs = after
                else:
                    self.seconds += int(verb.get('timeout') or 5)
            elif tag == 'Dial':
                self.said = said
                self._dial(verb, verbs)
                return
            elif tag == 'Enqueue':
                # The sandbox's queues are the Odoo layer's (see SandboxGateway.dequeue_member):
                # the caller hears the wait music until it ends.
                wait = self._request(verb.get('waitUrl'), QueueSid=new_sid('QU'), QueuePosition=1,
                                     QueueTime=0, AvgQueueTime=0, CurrentQueueSize=1, MaxQueueSize=100)
                self.seconds += 3 * len(wait)
                verbs = self._request(verb.get('action'), QueueResult='leave', QueueTime=self.seconds)
            elif tag in ('Hangup', 'Reject'):
                break
        self.said = said
        self._end('completed')

    def _dial(self, dial, rest):
        self.ensure_one()
        self.waiting_dial = ET.tostring(dial, encoding='unicode')
        clients = dial.findall('Client')
        if not clients:
            # Outgoing: the person called answers at once (simulated audio).
            self.write({'state': 'in_progress', 'answer_date': fields.Datetime.now(),
                        'legs': {}, 'ended_legs': []})
            return
        legs, parameters = {}, {}
        for client in clients:
            identity = (client.text or '').strip() or (client.findtext('Identity') or '').strip()
            legs[identity] = new_sid('CA')
            parameters[identity] = {param.get('name'): param.get('value')
                                    for param in client.findall('Parameter')}
        self.write({'state': 'ringing', 'legs': legs, 'leg_parameters': parameters,
                    'ended_legs': [], 'answered_identity': False})
        for identity in legs:
            self._leg_status(identity, 'ringing')

    def _dial_element(self):
        return ET.fromstring(self.waiting_dial) if self.waiting_dial else None

    def _dial_timeout(self):
        dial = self._dial_element()
        return int(dial.get('timeout') or 30) if dial is not None else 30

    def _client_element(self, identity):
        dial = self._dial_element()
        for client in dial.findall('Client') if dial is not None else []:
            if ((client.text or '').strip() or (client.findtext('Identity') or '').strip()) == identity:
                return client
        return None

    def _leg_status(self, identity, status, **extra):
        client = self._client_element(identity)
        if client is not None and client.get('statusCallback'):
            self._callback(client.get('statusCallback'), CallSid=self.legs[identity],
                           ParentCallSid=self.call_sid, CallStatus=status,
                           To='client:' + identity, Direction='outbound-dial', **extra)

    def _answer(self, identity):
        self.write({'state': 'in_progress', 'answered_identity': identity,
                    'answer_date': fields.Datetime.now()})
        self._leg_status(identity, 'in-progress')
        others = [other for other in self.legs if other != identity and other not in (self.ended_legs or [])]
        for other in others:
            self._leg_status(other, 'canceled', CallDuration=0)
        self.ended_legs = list(self.ended_legs or []) + others

    def _leg_gives_up(self, identity, leg_status):
        """One softphone declines (or stops ringing); when none rings any more, the <Dial>
        ends unanswered and the call goes on with its action's TwiML."""
        if identity in (self.ended_legs or []):
            return
        self._leg_status(identity, leg_status, CallDuration=0)
        self.ended_legs = list(self.ended_legs or []) + [identity]
        if set(self.legs) <= set(self.ended_legs or []):
            dial = self._dial_element()
            self.seconds += int(dial.get('timeout') or 30)
            self.waiting_dial = False
            self.state = 'in_progress'
            self._run(self._request(dial.get('action'), DialCallStatus='no-answer'))

    def _hang_up(self):
        """The softphone's user hangs up a connected call."""
        dial = self._dial_element()
        answered = bool(self.answer_date)
        talk = self._elapsed() - self.seconds if answered else 0
        if self.direction == 'inbound' and self.answered_identity:
            self._leg_status(self.answered_identity, 'completed', CallDuration=talk)
            if dial is not None and dial.get('record') and dial.get('recordingStatusCallback'):
                self._callback(dial.get('recordingStatusCallback'), RecordingSid=new_sid('RE'),
                               RecordingDuration=talk, RecordingStatus='completed',
                               RecordingSource='DialVerb', RecordingUrl='https://api.twilio.com/rec')
        # The talk is now part of the call's past; the clock no longer runs.
        self.write({'seconds': self.seconds + talk, 'answer_date': False})
        if dial is not None and dial.get('action'):
            self.waiting_dial = False
            status = 'completed' if answered else 'no-answer'
            after = self._request(dial.get('action'), DialCallStatus=status,
                                  DialCallSid=new_sid('CA'), DialCallDuration=talk)
            self._run(after)
        else:
            self._end('completed')

    def _end(self, status):
        """The call is over: Twilio reports it to the status callback."""
        if self.state == 'ended':
            return
        duration = self._elapsed()
        for identity in self.legs or {}:
            if identity not in (self.ended_legs or []) and identity != self.answered_identity:
                self._leg_status(identity, 'canceled', CallDuration=0)
        self.write({'state': 'ended', 'waiting_dial': False})
        self._callback(self.account_id._webhook_url(STATUS_ROUTE), CallStatus=status,
                       CallDuration=duration, Duration=max(1, duration // 60),
                       CallbackSource='call-progress-events', SequenceNumber=0)

