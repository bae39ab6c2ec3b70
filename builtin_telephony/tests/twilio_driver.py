"""A Twilio call driver: plays Twilio's part in a phone call against the real webhook routes.

It behaves as Twilio's voice platform does (https://www.twilio.com/docs/voice/twiml):

* every request is a POST signed with ``X-Twilio-Signature`` computed by Twilio's own
  ``RequestValidator`` over the URL (the account's public base + path + query) and the form;
* the TwiML answered is executed verb by verb: ``<Say>``/``<Play>`` are heard, ``<Redirect>``
  is followed, ``<Gather>``/``<Record>``/``<Dial>``/``<Enqueue>`` wait for what the person on
  the phone does (the test decides: press a key, stay silent, answer...), then Twilio's request
  to the verb's ``action`` carries its documented parameters (``Digits``, ``RecordingDuration``,
  ``DialCallStatus``, ``QueueResult``...);
* falling off the end of the TwiML, ``<Hangup>`` or ``<Reject>`` ends the call, and the
  number's status callback reports it (``CallStatus``, ``CallDuration``);
* ``<Client>`` legs report ``ringing``, ``in-progress`` and their end to their
  ``statusCallback`` with ``ParentCallSid``; recordings report to ``recordingStatusCallback``;
* its queues are Twilio's: ``<Enqueue>`` fetches ``waitUrl``, and the Queue API's dequeue
  (the gateway the add-on calls, see :meth:`TwilioDriver.gateway`) sends a waiting caller to a
  URL: as soon as the current request is answered, the driver requests the Enqueue action
  (``QueueResult=redirected``) then that URL for the call.

Nothing of the add-on is called directly: the tests see what a caller hears and what the
database keeps. The one exception is the add-on's queue hand-off job, which Odoo's cron runs
after the webhooks commit: :meth:`TwilioDriver.hand_off_queued_callers` runs it.
"""
import email.utils
import hashlib
import itertools
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from twilio.request_validator import RequestValidator

from ..tools.gateways import get_gateway

_sids = itertools.count(1)

# Languages of the voices the driver knows, from Twilio's text-to-speech documentation
# (https://www.twilio.com/docs/voice/twiml/say/text-speech): Twilio fails a <Say> whose
# language its voice does not speak. man/woman (the default voice) read English, Spanish,
# French and German.
VOICE_LANGUAGES = {
    'Polly.Lucia': 'es-ES', 'Polly.Conchita': 'es-ES', 'Polly.Enrique': 'es-ES',
    'Polly.Mia': 'es-MX', 'Polly.Lupe': 'es-US', 'Polly.Penelope': 'es-US',
    'Polly.Miguel': 'es-US', 'Polly.Zhiyu': 'cmn-CN', 'Polly.Joanna': 'en-US',
    'Polly.Salli': 'en-US', 'Polly.Matthew': 'en-US', 'Polly.Amy': 'en-GB',
}
BASIC_LANGUAGES = ('en', 'en-US', 'en-GB', 'en-gb', 'es', 'fr', 'de')


def new_sid(prefix):
    return '%s%032x' % (prefix, next(_sids) + 0xABC0000)


class TwilioDriver:
    """Twilio for one telephony account, talking to the HttpCase's server."""

    def __init__(self, case, account):
        self.case = case
        self.account = account.sudo()
        self.validator = RequestValidator(self.account.twilio_auth_token)
        self.queues = {}            # queue sid → [SimulatedCall], front first
        self.queue_names = {}       # queue sid → friendly name
        self.redirects = []         # (call, url) the Queue API asked for
        self.dequeued = []          # CallSids taken out of a queue, in order
        self.calls = []
        self.average_queue_time = 0  # AvgQueueTime Twilio reports to waitUrl requests (s)

    # -- HTTP ------------------------------------------------------------------------------

    def post(self, url, params, signature=None):
        """POST ``params`` to ``url`` as Twilio does; ``signature`` forges the header."""
        signature = signature or self.validator.compute_signature(url, params)
        return self.case.url_open(url, data=params, headers={'X-Twilio-Signature': signature},
                                  allow_redirects=False, timeout=30)

    def twiml(self, url, params):
        response = self.post(url, params)
        self.case.assertEqual(response.status_code, 200, response.text)
        self.case.assertIn('xml', response.headers.get('Content-Type', ''))
        root = ET.fromstring(response.content)
        self.case.assertEqual(root.tag, 'Response', response.text)
        self.deliver_redirects()
        return root

    def callback(self, url, params):
        response = self.post(url, params)
        self.case.assertIn(response.status_code, (200, 204), response.text)
        self.deliver_redirects()
        return response

    # -- Calls -------------------------------------------------------------------------------

    def incoming_call(self, from_number, to_number):
        """A caller dials one of our numbers; returns the call once the first TwiML ran."""
        call = SimulatedCall(self, from_number, to_number)
        self.calls.append(call)
        call.start(self.account.voice_webhook_url)
        return call

    def outgoing_call(self, identity, to_number, caller_id=None, **extra):
        """A softphone (Twilio Client ``identity``) calls ``to_number`` through the TwiML App;
        ``extra``: the softphone's other parameters (``ResModel``, ``ResId``)."""
        call = SimulatedCall(self, 'client:%s' % identity, to_number, direction='outbound-api')
        if caller_id:
            call.extra['CallerId'] = caller_id
        call.extra.update(extra)
        self.calls.append(call)
        call.start(self.account.client_webhook_url)
        return call

    # -- Queues (what the add-on's Queue API calls reach) -----------------------------------

    def gateway(self):
        """A provider gateway whose queues are this driver's: patch it in as the account's."""
        driver = self
        base = get_gateway('sandbox', self.account.twilio_account_sid, self.account.twilio_auth_token)

        class QueueGateway(type(base)):
            def queue_sid(self, friendly_name):
                sid = 'QU' + hashlib.md5(friendly_name.encode()).hexdigest()
                driver.queue_names[sid] = friendly_name
                driver.queues.setdefault(sid, [])
                return sid

            def dequeue_member(self, queue_sid, call_sid, url):
                waiting = driver.queues.get(queue_sid) or []
                call = next((call for call in waiting if call.sid == call_sid), None)
                if not call:
                    return False  # Twilio answers 404: not (or no longer) in the queue
                waiting.remove(call)
                driver.dequeued.append(call.sid)
                driver.redirects.append((call, url))
                return True

        return QueueGateway(self.account.twilio_account_sid, self.account.twilio_auth_token)

    def enqueue(self, call, name):
        sid = 'QU' + hashlib.md5(name.encode()).hexdigest()
        self.queue_names[sid] = name
        self.queues.setdefault(sid, []).append(call)
        return sid, len(self.queues[sid])

    def leave_queue(self, call):
        for waiting in self.queues.values():
            if call in waiting:
                waiting.remove(call)

    def hand_off_queued_callers(self):
        """Run the add-on's queue hand-off job (an ``ir.cron`` that its webhooks trigger, run
        after they commit, on any server), then follow the dequeues it asked for."""
        self.case.env['telephony.call']._cron_hand_off_queued_callers()
        self.deliver_redirects()

    def deliver_redirects(self):
        """Twilio redirects dequeued callers once the REST request that asked for it is over."""
        while self.redirects:
            call, url = self.redirects.pop(0)
            enqueue, _rest = call.expect('queue')
            # Twilio requests the Enqueue action right away; the call runs the new URL's TwiML.
            ignored = call.request(enqueue.get('action'), QueueResult='redirected',
                                   QueueTime=call.seconds)
            self.case.assertEqual(len(ignored), 0, "nothing to run: the call went on elsewhere")
            call.run(call.request(url))


def client_identity(client):
    """The identity a ``<Client>`` rings: its text, or its ``<Identity>`` when it carries
    ``<Parameter>``s."""
    return (client.findtext('Identity') or client.text or '').strip()


class SimulatedCall:
    """One call as Twilio sees it: its parameters, what the caller heard, where it waits."""

    def __init__(self, driver, from_number, to_number, direction='inbound'):
        self.driver = driver
        self.case = driver.case
        self.sid = new_sid('CA')
        self.from_number = from_number
        self.to_number = to_number
        self.direction = direction
        self.extra = {}
        self.heard = []          # ('say' | 'play', text) in order
        self.voices = []         # (text, language, voice) of each <Say>, in order
        self.waiting = None      # (verb name, element, verbs after it)
        self.ended = False
        self.final_status = None
        self.seconds = 0         # simulated call time, for durations
        self.started = datetime.now(timezone.utc).replace(microsecond=0)
        self.legs = {}           # client identity → leg sid of the current <Dial>
        self.answered_by = None
        self.rejected = None

    # -- Requests ------------------------------------------------------------------------

    def timestamp(self):
        """The ``Timestamp`` of a status callback: the call's start plus the simulated time."""
        return email.utils.format_datetime(self.started + timedelta(seconds=self.seconds))

    def params(self, **extra):
        params = {
            'AccountSid': self.driver.account.twilio_account_sid,
            'ApiVersion': '2010-04-01',
            'CallSid': self.sid,
            'CallStatus': 'in-progress',
            'Direction': self.direction,
            'From': self.from_number,
            'To': self.to_number,
            'Caller': self.from_number,
            'Called': self.to_number,
        }
        params.update(self.extra)
        params.update({key: str(value) for key, value in extra.items()})
        return params

    def request(self, url, **extra):
        return self.driver.twiml(url, self.params(**extra))

    def start(self, url):
        self.run(self.request(url, CallStatus='ringing'))

    # -- TwiML execution -------------------------------------------------------------------

    def run(self, verbs):
        verbs = list(verbs)
        while verbs:
            verb = verbs.pop(0)
            tag = verb.tag
            if tag in ('Say', 'Play'):
                self.hear(verb)
            elif tag == 'Pause':
                continue
            elif tag == 'Redirect':
                verbs = list(self.request(verb.text))
            elif tag == 'Gather':
                for nested in verb:
                    self.hear(nested)
                self.waiting = ('gather', verb, verbs)
                return
            elif tag == 'Record':
                self.waiting = ('record', verb, verbs)
                return
            elif tag == 'Dial':
                self.dial(verb, verbs)
                return
            elif tag == 'Enqueue':
                self.enqueue(verb, verbs)
                return
            elif tag == 'Hangup':
                break
            elif tag == 'Reject':
                self.rejected = verb.get('reason', 'rejected')
                self.end('busy' if self.rejected == 'busy' else 'no-answer', answered=False)
                return
            else:
                self.case.fail('Unexpected TwiML verb <%s>' % tag)
        self.end('completed')

    def hear(self, verb):
        if verb.tag == 'Say':
            self.check_voice(verb)
            self.voices.append((verb.text, verb.get('language'), verb.get('voice')))
        loops = int(verb.get('loop') or 1)
        for _loop in range(loops or 1):
            self.heard.append((verb.tag.lower(), verb.text))
        self.seconds += 3 * (loops or 1)

    def check_voice(self, say):
        """Twilio refuses a voice asked to speak a language it does not speak."""
        language, voice = say.get('language'), say.get('voice')
        if voice in VOICE_LANGUAGES:
            self.case.assertIn(language, (None, VOICE_LANGUAGES[voice]),
                               '%s does not speak %s' % (voice, language))
        elif voice in (None, 'man', 'woman') and language:
            self.case.assertIn(language, BASIC_LANGUAGES,
                               "Twilio's basic voice does not speak %s" % language)

    def end(self, status, answered=True):
        """The call is over: Twilio reports it to the number's status callback."""
        self.waiting = None
        self.ended = True
        self.final_status = status
        self.driver.leave_queue(self)
        self.driver.callback(self.driver.account.status_webhook_url, self.params(
            CallStatus=status, CallDuration=self.seconds if answered else 0, Timestamp=self.timestamp(),
            Duration=max(1, self.seconds // 60) if answered else 0,
            CallbackSource='call-progress-events', SequenceNumber=0))

    def expect(self, kind):
        self.case.assertFalse(self.ended, 'the call is over')
        self.case.assertIsNotNone(self.waiting, 'the call waits for nothing')
        self.case.assertEqual(self.waiting[0], kind, 'the call waits on <%s>' % self.waiting[0])
        waiting, self.waiting = self.waiting, None
        return waiting[1], waiting[2]

    @property
    def said(self):
        return [text for kind, text in self.heard if kind == 'say']

    # -- The caller ----------------------------------------------------------------------

    def press(self, digits):
        gather, _rest = self.expect('gather')
        self.case.assertEqual(gather.get('numDigits'), '1')
        self.run(self.request(gather.get('action'), Digits=digits, FinishedOnKey=''))

    def stay_silent(self):
        """No key within the Gather's timeout, or no voice within the Record's: Twilio goes on
        with the verbs after it (for <Record>, without requesting the action)."""
        kind = self.waiting and self.waiting[0]
        self.case.assertIn(kind, ('gather', 'record'))
        verb, rest = self.expect(kind)
        self.seconds += int(verb.get('timeout') or 5)
        self.run(rest)

    def leave_message(self, seconds, transcription=None):
        """The caller speaks ``seconds``; when the <Record> asks for a transcription, Twilio
        posts ``transcription`` (None: it failed) to its ``transcribeCallback`` afterwards."""
        record, _rest = self.expect('record')
        self.case.assertLessEqual(seconds, int(record.get('maxLength')))
        self.seconds += seconds
        recording = {'RecordingSid': new_sid('RE'), 'RecordingDuration': seconds,
                     'RecordingUrl': 'https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/x'}
        recording['RecordingUrl'] = recording['RecordingUrl'][:-1] + recording['RecordingSid']
        root = self.request(record.get('action'), Digits='hangup', **recording)
        if record.get('recordingStatusCallback'):
            self.driver.callback(record.get('recordingStatusCallback'), self.params(
                RecordingStatus='completed', RecordingSource='RecordVerb', RecordingChannels=1,
                **recording))
        self.run(root)
        if record.get('transcribe') == 'true' and record.get('transcribeCallback'):
            self.transcription_params = self.params(
                TranscriptionSid=new_sid('TR'), TranscriptionText=transcription or '',
                TranscriptionStatus='completed' if transcription is not None else 'failed',
                TranscriptionType='fast', TranscriptionUrl='https://api.twilio.com/2010-04-01/'
                'Accounts/AC/Transcriptions/x', CallStatus='completed', **recording)
            self.driver.callback(record.get('transcribeCallback'), self.transcription_params)

    def hang_up(self):
        """The caller hangs up wherever the call is."""
        kind = self.waiting and self.waiting[0]
        if kind == 'queue':
            enqueue, rest = self.expect('queue')
            self.driver.leave_queue(self)
            self.request(enqueue.get('action'), QueueResult='hangup', QueueTime=self.seconds)
        self.end('completed')

    # -- Dial: the softphones -------------------------------------------------------------

    def dial(self, dial, rest):
        self.waiting = ('dial', dial, rest)
        self.legs = {}
        for client in dial.findall('Client'):
            leg = new_sid('CA')
            self.legs[client_identity(client)] = (leg, client)
            self.leg_status(client_identity(client), 'ringing')

    def ringing(self):
        """The identities the current <Dial> rings, in order."""
        self.case.assertEqual(self.waiting and self.waiting[0], 'dial')
        return [client_identity(client) for client in self.waiting[1].findall('Client')] or \
               [number.text for number in self.waiting[1].findall('Number')]

    def leg_status(self, identity, status, **extra):
        leg, client = self.legs[identity]
        if client.get('statusCallback'):
            self.driver.callback(client.get('statusCallback'), self.params(
                CallSid=leg, ParentCallSid=self.sid, CallStatus=status, To='client:' + identity,
                Direction='outbound-dial', Timestamp=self.timestamp(), **extra))

    def answer(self, identity):
        """``identity``'s softphone answers; the others stop ringing."""
        self.case.assertEqual(self.waiting and self.waiting[0], 'dial')
        self.case.assertIn(identity, self.legs)
        self.leg_status(identity, 'in-progress')
        for other in self.legs:
            if other != identity:
                self.leg_status(other, 'canceled', CallDuration=0)
        self.answered_by = identity

    def end_talk(self, seconds):
        """The agent and the caller talk ``seconds``, then the agent hangs up."""
        dial, rest = self.expect('dial')
        self.seconds += seconds
        self.leg_status(self.answered_by, 'completed', CallDuration=seconds)
        leg = self.legs[self.answered_by][0]
        if dial.get('record') and dial.get('recordingStatusCallback'):
            self.driver.callback(dial.get('recordingStatusCallback'), self.params(
                RecordingSid=new_sid('RE'), RecordingDuration=seconds, RecordingStatus='completed',
                RecordingSource='DialVerb', RecordingUrl='https://api.twilio.com/rec'))
        # With an action, Twilio runs the action's TwiML instead of the verbs after <Dial>.
        self.run(self.request(dial.get('action'), DialCallStatus='completed', DialCallSid=leg,
                              DialCallDuration=seconds))

    def answer_and_talk(self, identity, seconds=30):
        self.answer(identity)
        self.end_talk(seconds)

    def no_answer(self, dial_status='no-answer'):
        """Nobody answers within the Dial's timeout (or the line is ``busy``)."""
        dial, rest = self.expect('dial')
        self.seconds += int(dial.get('timeout') or 30)
        for identity in self.legs:
            self.leg_status(identity, dial_status, CallDuration=0)
        self.run(self.request(dial.get('action'), DialCallStatus=dial_status))

    def callee_answers(self, seconds):
        """Outgoing call: the person called answers and talks ``seconds`` (recorded when the
        Dial says so: Twilio reports the recording before the Dial action)."""
        dial, rest = self.expect('dial')
        self.seconds += seconds
        if dial.get('record') and dial.get('recordingStatusCallback'):
            self.driver.callback(dial.get('recordingStatusCallback'), self.params(
                RecordingSid=new_sid('RE'), RecordingDuration=seconds, RecordingStatus='completed',
                RecordingSource='DialVerb', RecordingUrl='https://api.twilio.com/rec'))
        self.run(self.request(dial.get('action'), DialCallStatus='completed',
                              DialCallSid=new_sid('CA'), DialCallDuration=seconds))

    # -- Queues -------------------------------------------------------------------------

    def enqueue(self, enqueue, rest):
        queue_sid, position = self.driver.enqueue(self, enqueue.text)
        self.waiting = ('queue', enqueue, rest)
        self.queue_sid = queue_sid
        self.wait_verbs = []
        self.request_wait(enqueue.get('waitUrl'))

    def queue_position(self):
        waiting = self.driver.queues.get(self.queue_sid, [])
        return waiting.index(self) + 1 if self in waiting else 0

    def request_wait(self, url, **extra):
        """Twilio requests the waitUrl (again after a <Redirect>) with the queue's figures."""
        waiting = self.driver.queues.get(self.queue_sid, [])
        wait = self.request(url, QueueSid=self.queue_sid, QueuePosition=self.queue_position(),
                            QueueTime=self.seconds, AvgQueueTime=self.driver.average_queue_time,
                            CurrentQueueSize=len(waiting), MaxQueueSize=100, **extra)
        self.play_wait(list(wait))

    def play_wait(self, verbs):
        """Run wait TwiML up to a <Gather> (where the caller may press a key), a <Redirect>
        (the next loop: kept for :meth:`music_plays`), or its end."""
        self.wait_verbs = verbs
        while self.wait_verbs:
            verb = self.wait_verbs[0]
            if verb.tag in ('Say', 'Play'):
                self.hear(self.wait_verbs.pop(0))
            elif verb.tag == 'Gather':
                for nested in verb:
                    self.hear(nested)
                return
            else:  # Redirect, Leave, Hangup: what happens when the music has played
                return

    def music_plays(self):
        """The caller presses nothing: the wait TwiML goes on past its <Gather> to its
        <Redirect> (the waitUrl again, with fresh figures) or its <Leave>. Returns False once
        the TwiML left the queue (then :meth:`music_ends` applies)."""
        self.case.assertEqual(self.waiting and self.waiting[0], 'queue')
        while self.wait_verbs:
            verb = self.wait_verbs.pop(0)
            if verb.tag == 'Gather':
                self.seconds += int(verb.get('timeout') or 5)
            elif verb.tag in ('Say', 'Play'):
                self.hear(verb)
            elif verb.tag == 'Redirect':
                self.request_wait(verb.text)
                return True
            else:
                self.wait_verbs.insert(0, verb)
                return False
        return False

    def press_in_queue(self, digits):
        """The caller presses a key during the <Gather> of the wait TwiML."""
        self.case.assertEqual(self.waiting and self.waiting[0], 'queue')
        gather = self.wait_verbs and self.wait_verbs[0]
        self.case.assertTrue(gather is not None and gather.tag == 'Gather', 'no key is awaited')
        answer = list(self.request(gather.get('action'), Digits=digits, FinishedOnKey='',
                                   QueueSid=self.queue_sid, QueuePosition=self.queue_position()))
        for verb in answer:
            if verb.tag in ('Say', 'Play'):
                self.hear(verb)
            elif verb.tag == 'Redirect':
                self.request_wait(verb.text)
                return
            elif verb.tag == 'Hangup':
                # The caller is hung up on while waiting: Twilio reports the Enqueue action.
                enqueue, _rest = self.expect('queue')
                self.driver.leave_queue(self)
                self.request(enqueue.get('action'), QueueResult='hangup', QueueTime=self.seconds)
                self.end('completed')
                return
            elif verb.tag == 'Leave':
                self.wait_verbs = [verb]
                self.music_ends()
                return
            else:
                self.case.fail('Unexpected TwiML verb <%s> in a queue' % verb.tag)

    def music_ends(self):
        """The wait TwiML ran to its <Leave> (every loop of the music played): the caller leaves
        the queue (QueueResult=leave)."""
        while self.music_plays():
            pass
        enqueue, rest = self.expect('queue')
        self.case.assertEqual(self.wait_verbs and self.wait_verbs[-1].tag, 'Leave')
        self.driver.leave_queue(self)
        self.run(self.request(enqueue.get('action'), QueueResult='leave', QueueTime=self.seconds))
