"""The runtime of call flows: which TwiML answers each webhook of a call. Plain Python, no Odoo.

A call is walked state by state over Twilio webhooks. Each entry point answers one webhook with a
:class:`Step` (the TwiML plus what to store on the call). States that need no answer from Twilio
(announcements, an offline user...) are chained inline in the same response.

==============================  =========================  ==================================
webhook (route)                 Twilio parameters used     entry point (decision)
==============================  =========================  ==================================
``/telephony/twilio/voice``     —                          :func:`start`
``flow/gather`` (Gather action) ``Digits``                 :func:`answer_gather` (on_gather)
``flow/dial`` (Dial action)     ``DialCallStatus``         :func:`answer_dial` (on_dial)
``flow/record`` (Record action) ``RecordingDuration``      :func:`answer_record` (on_record)
``flow/queue_wait`` (waitUrl)   ``QueuePosition``,         :func:`answer_queue_wait`
                                ``AvgQueueTime``
``flow/queue_key`` (Gather in   ``Digits``                 :func:`answer_queue_key`
the waitUrl)                                               (on_queue_key)
``flow/queue_result`` (Enqueue) ``QueueResult``            :func:`answer_queue_result`
``flow/event`` (our Redirects)  —                          :func:`answer_event` (on_event)
``flow/connect`` (dequeued)     —                          :func:`answer_connect`
==============================  =========================  ==================================

Each ``answer_<action>`` reads the parameters of the route ``FLOW_ROUTE + <action>`` (its query
string merged with Twilio's POST form), so that nothing else reads Twilio's parameter names; the
``on_*`` functions take plain values (what a simulation of the flow calls).
Everything the engine needs from the outside comes through a :class:`CallContext`. Everything it
needs to remember between two webhooks travels in the action URLs it builds (``state``,
``event``, ``invalid``, ``tried``, ``started``): Twilio signs those URLs, so they are tamper-proof,
and no server-side state is kept.

The add-on's own spoken words (goodbye, invalid option, apology) are said in the language of the
state's text message when the add-on speaks it, else in the company's (``ctx.language``), by a
voice of that language (tools/speech.py); an administrator's text message without a language is
read in the company's.
"""
import logging
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from twilio.twiml.voice_response import VoiceResponse

from ... import const
from .. import speech, twiml
from .definition import (
    EMAIL_TO_GROUP, IVR_KEYS, IVR_TIMEOUT, callback_key, MAX_MENU_REPLAYS, MIN_RING_TIME, STATE_TYPES, TRANSFER_ENDS, TRANSFER_TYPES,
    FlowError, connections,
    identity, is_state, load_definition, queue_settings, setting, state_name, states_of, walk_order,
)

_logger = logging.getLogger(__name__)


class CallContext(Protocol):
    """What the engine asks of the Odoo layer about the call being walked."""

    def url(self, action: str, **params) -> str:
        """Absolute URL of ``FLOW_ROUTE + action`` with ``params`` in its query string."""

    def user_status(self, user_id: int) -> str:
        """'available', 'busy' or 'offline'."""

    def client_identity(self, user_id: int) -> str:
        """Twilio Client identity of the user's softphone."""

    def group_members(self, group_id: int) -> list:
        """The group's telephony user ids, in sign-in order."""

    def queue_name(self, kind: str, record_id: int) -> str:
        """Twilio queue name for ``kind`` 'user' or 'group' (at most 64 characters)."""

    def queue_size(self, queue_name: str) -> int:
        """Number of calls waiting in that queue now."""

    def audio_url(self, message: dict):
        """Public URL of a ``file`` message's audio, or None when it cannot be played."""

    def time_limit(self):
        """Seconds the call may still be put through for (what its credits pay), or None."""

    def recording_callback_url(self) -> str:
        """The recording status callback (``/telephony/twilio/recording``)."""

    def client_status_callback_url(self, user_id: int) -> str:
        """Status callback of the leg ringing that user's softphone."""

    def transcription_callback_url(self) -> str:
        """The transcription callback of a voicemail (``/telephony/twilio/transcription``)."""

    def is_open(self, calendar_id: int) -> bool:
        """Whether the working-hours calendar is open now (its public holidays closed)."""

    def client_parameters(self) -> dict:
        """The ``<Parameter>``s of every ``<Client>`` rung (name → value): who is calling."""

    def now(self) -> float:
        """Current time, in seconds since the epoch."""

    def language(self, requested: str | None = None) -> str:
        """The ``<Say language>`` to say the add-on's words in: ``requested`` (a state's) when
        they are translated into it, else the company's."""

    def translate(self, text: str, language: str) -> str:
        """Translate a spoken system prompt into ``language`` (a result of :meth:`language`)."""


class LogEntry(NamedTuple):
    """One step of the call's path. ``event`` is ``const.STEP_ENTERED``, an event of the state's
    type ('next', '1', 'timeout', 'busy', ...) or another ``const.STEP_*`` event."""
    state_id: str
    state_name: str
    event: str


@dataclass
class Step:
    """The answer to one webhook, and what the call keeps of it.

    ``outcome`` is a hint for the call's final status when this answer ends the call:
    'completed' (someone talked to the caller), 'voicemail', 'busy' or 'missed'; None while the
    call goes on ('callback' when the caller asked to be called back instead of waiting;
    ``callback_user_ids`` are then the telephony users of the state that should call back).
    ``transfer_outcome``: 'busy' or 'missed' when the call left a transfer state
    unanswered (the last such state tells why nobody answered, whatever the caller heard next).
    ``queue_name`` / ``queue_state``: the queue the caller entered, and the state that put them
    there. ``user_ids``: the telephony users whose softphones this answer rings. ``marks``: for
    each log entry, how many verbs the TwiML had when it was noted, so that what is said can be
    told apart per state (the simulator shows it).
    """
    twiml: str
    log: list = field(default_factory=list)
    outcome: str | None = None
    user_ids: list = field(default_factory=list)
    transfer_outcome: str | None = None
    queue_name: str | None = None
    queue_state: str | None = None
    callback_user_ids: list = field(default_factory=list)
    marks: list = field(default_factory=list)


class _Walk:
    """Builds one TwiML response while walking the states of a definition."""

    def __init__(self, definition, ctx):
        try:
            self.definition = load_definition(definition)
        except ValueError as error:
            raise FlowError('The call flow is not valid JSON: %s' % error) from error
        self.states = states_of(self.definition)
        self.ctx = ctx
        self.response = VoiceResponse()
        self.log = []
        self.marks = []
        self.user_ids = []
        self.outcome = None
        self.transfer_outcome = None
        self.queue_name = self.queue_state = None
        self.callback_user_ids = []
        self.entered = 0
        self._company_language = None

    def state(self, state_id):
        if not is_state(state_id, self.states):
            raise FlowError('The call flow has no state %r.' % state_id)
        return self.states[state_id]

    def note(self, state_id, event):
        self.log.append(LogEntry(state_id, state_name(state_id, self.state(state_id)), event))
        self.marks.append(len(self.response.verbs))

    def enter(self, state_id):
        """Append the TwiML of a state (and of the states it chains to inline)."""
        self.entered += 1
        # Only an unvalidated (cyclic) definition could walk more states than it has.
        if self.entered > len(self.states):
            raise FlowError('The call flow loops through state %r.' % state_id)
        state = self.state(state_id)
        render = getattr(self, '_render_%s' % state.get('type'), None) \
            if state.get('type') in STATE_TYPES else None
        if not render:
            raise FlowError('State %r has an unknown type.' % state_id)
        self.note(state_id, const.STEP_ENTERED)
        render(state_id, state)

    def follow(self, state_id, event):
        """Leave a state through ``event``: enter its target, or end the call politely."""
        self.note(state_id, event)
        state = self.state(state_id)
        if event in TRANSFER_ENDS and state.get('type') in TRANSFER_TYPES:
            self.transfer_outcome = 'busy' if event == 'busy' else 'missed'
        target = connections(state).get(event)
        if target:
            self.enter(target)
        else:
            self.goodbye('busy' if event == 'busy' else 'missed', state_id)

    def goodbye(self, outcome, state_id=None):
        _, voice = self.speaker(state_id)
        self.response.say(_('Thank you for calling. Goodbye.'), **voice)
        self.end(outcome)

    def company_language(self):
        if self._company_language is None:
            self._company_language = self.ctx.language()
        return self._company_language

    def speaker(self, state_id=None):
        """``(translate, <Say> attributes)`` of the add-on's own words in ``state_id``: in the
        language of the state's text message if the add-on speaks it, else the company's."""
        state = self.states.get(state_id) if is_state(state_id, self.states) else None
        message = state.get('message') if isinstance(state, dict) else None
        if not isinstance(message, dict) or message.get('kind') != 'text':
            message = {}
        language = self.ctx.language(message['language']) if message.get('language') \
            else self.company_language()
        # The state's voice, when it reads the state's language.
        voice = message.get('voice') if language == speech.ALIASES.get(
            message.get('language'), message.get('language')) else None
        return ((lambda text: self.ctx.translate(text, language)),
                speech.prompt_attributes(language, voice))

    def end(self, outcome):
        self.response.hangup()
        self.outcome = outcome

    def play(self, verb, message, loop=None):
        """Append a message to ``verb`` (the response or a Gather): text read, audio played."""
        if not isinstance(message, dict):
            return
        kind = message.get('kind')
        if kind == 'text':
            if message.get('language') or message.get('voice'):
                voice = speech.say_attributes(message.get('language'), message.get('voice'))
            else:  # in the company's language
                voice = speech.prompt_attributes(self.company_language())
            verb.say(message['text'], loop=loop, **voice)
        elif kind == 'url':
            verb.play(message['url'], loop=loop)
        elif kind == 'file':
            url = self.ctx.audio_url(message)
            if url:
                verb.play(url, loop=loop)

    def step(self):
        return Step(twiml=str(self.response), log=self.log, outcome=self.outcome,
                    user_ids=self.user_ids, transfer_outcome=self.transfer_outcome,
                    queue_name=self.queue_name, queue_state=self.queue_state,
                    callback_user_ids=self.callback_user_ids, marks=self.marks)

    # -- The TwiML of each state type ------------------------------------------------------

    def _render_announce(self, state_id, state):
        self.play(self.response, state.get('message'))
        self.follow(state_id, 'next')

    def _render_ivr(self, state_id, state, invalid=0):
        params = {'invalid': invalid} if invalid else {}
        gather = self.response.gather(num_digits=1, timeout=IVR_TIMEOUT, method='POST',
                                      action=self.ctx.url('gather', state=state_id, **params))
        self.play(gather, state.get('message'))
        # Without a key, Twilio goes on with the verb after <Gather>.
        self.response.redirect(self.ctx.url('event', state=state_id, event='timeout'),
                               method='POST')

    def _render_voicemail(self, state_id, state):
        self.play(self.response, state.get('message'))
        transcription = ({'transcribe': True,
                          'transcribe_callback': self.ctx.transcription_callback_url()}
                         if state.get('transcribe') else {})
        self.response.record(
            max_length=setting(state, 'max_length'), timeout=setting(state, 'timeout'),
            play_beep=True, method='POST', action=self.ctx.url('record', state=state_id),
            recording_status_callback=self.ctx.recording_callback_url(),
            recording_status_callback_event='completed', **transcription)
        # Twilio skips the action of a recording without audio and goes on with the next verb.
        self.response.redirect(self.ctx.url('event', state=state_id, event='timeout'),
                               method='POST')

    def _render_business_hours(self, state_id, state):
        self.follow(state_id, 'open' if self.ctx.is_open(state.get('calendar_id')) else 'closed')

    def _render_transfer_user(self, state_id, state):
        user_id = state.get('user_id')
        status = self.ctx.user_status(user_id)
        if status == 'offline':
            self.follow(state_id, 'unavailable')
        elif status == 'busy':
            self.queue_or_busy(state_id, state, self.ctx.queue_name('user', user_id))
        else:
            self.dial(state_id, state, [user_id], setting(state, 'ring_timeout'))

    def _render_transfer_group(self, state_id, state):
        members = self.ctx.group_members(state.get('group_id'))
        statuses = [self.ctx.user_status(user_id) for user_id in members]
        free = [user_id for user_id, status in zip(members, statuses) if status == 'available']
        if not free:
            if 'busy' in statuses:
                self.queue_or_busy(state_id, state,
                                   self.ctx.queue_name('group', state.get('group_id')))
            else:
                self.follow(state_id, 'unavailable')
        elif setting(state, 'ring_strategy') == 'sequential':
            self.ring_member(state_id, state, free[0], tried=(), started=int(self.ctx.now()))
        else:
            self.dial(state_id, state, free, setting(state, 'ring_timeout'))

    # -- Ringing and queues ----------------------------------------------------------------

    def ring_member(self, state_id, state, user_id, tried, started):
        """Sequential ringing: ring one member; the Dial action URL carries who was tried and
        since when, so the next webhook can go on without server-side state."""
        remaining = setting(state, 'ring_timeout') - (self.ctx.now() - started)
        tried = tuple(tried) + (user_id,)
        self.dial(state_id, state, [user_id],
                  int(min(setting(state, 'user_timeout'), remaining)),
                  tried=','.join(str(member) for member in tried), started=started)

    def ring_next_member(self, state_id, state, tried, started):
        remaining = setting(state, 'ring_timeout') - (self.ctx.now() - started)
        candidates = (user_id for user_id in self.ctx.group_members(state.get('group_id'))
                      if user_id not in tried)
        # Statuses are asked lazily: the first free member is enough.
        next_member = next((user_id for user_id in candidates
                            if self.ctx.user_status(user_id) == 'available'), None)
        if next_member is None or remaining < MIN_RING_TIME:
            self.follow(state_id, 'timeout')
        else:
            self.ring_member(state_id, state, next_member, tried, started)

    def dial(self, state_id, state, user_ids, timeout, **url_params):
        recording = (twiml.recording_settings(self.ctx.recording_callback_url())
                     if state.get('record') else {})
        # (Contexts written before time limits existed, e.g. a simulator's, have none.)
        time_limit = getattr(self.ctx, 'time_limit', lambda: None)()
        dial = self.response.dial(timeout=timeout, method='POST', time_limit=time_limit,
                                  action=self.ctx.url('dial', state=state_id, **url_params),
                                  **recording)
        # Who is calling, for the ringing softphone: <Client><Identity/><Parameter/>...</Client>.
        parameters = self.ctx.client_parameters()
        for user_id in user_ids:
            identity = self.ctx.client_identity(user_id)
            client = dial.client(None if parameters else identity,
                                 status_callback=self.ctx.client_status_callback_url(user_id),
                                 status_callback_event=twiml.CLIENT_EVENTS)
            if parameters:
                client.identity(identity)
                for name, value in parameters.items():
                    client.parameter(name=name, value=value)
        self.user_ids.extend(user_ids)
        self.note(state_id, const.STEP_RINGING)

    def queue_or_busy(self, state_id, state, queue_name):
        queue = queue_settings(state)
        if queue and self.ctx.queue_size(queue_name) < setting(queue, 'max_calls'):
            self.note(state_id, const.STEP_QUEUED)
            self.queue_name, self.queue_state = queue_name, state_id
            self.response.enqueue(queue_name, method='POST', wait_url_method='POST',
                                  wait_url=self.ctx.url('queue_wait', state=state_id),
                                  action=self.ctx.url('queue_result', state=state_id))
        else:
            self.follow(state_id, 'busy')



# ---------------------------------------------------------------------------------------------
# Decisions: one per webhook of a call, over plain values
# ---------------------------------------------------------------------------------------------

def start(definition, ctx):
    """Answer the voice webhook of an incoming call: the TwiML of the start state."""
    walk = _Walk(definition, ctx)
    walk.enter(walk.definition.get('start'))
    return walk.step()


def on_event(definition, state_id, event, ctx):
    """Answer a Redirect of ours: leave ``state_id`` through ``event``."""
    walk = _Walk(definition, ctx)
    walk.follow(state_id, event)
    return walk.step()


def on_gather(definition, state_id, digits, ctx, invalid=0):
    """Answer the Gather action of an IVR; ``invalid``: invalid keys pressed so far."""
    walk = _Walk(definition, ctx)
    state = walk.state(state_id)
    if not digits:
        walk.follow(state_id, 'timeout')
    elif digits in IVR_KEYS and connections(state).get(digits):
        walk.follow(state_id, digits)
    else:
        _, voice = walk.speaker(state_id)
        walk.note(state_id, const.STEP_INVALID_KEY)
        walk.response.say(_('Sorry, that is not a valid option.'), **voice)
        if invalid < MAX_MENU_REPLAYS:
            walk._render_ivr(state_id, state, invalid + 1)
        else:
            walk.follow(state_id, 'timeout')
    return walk.step()


def on_dial(definition, state_id, dial_call_status, ctx, tried=(), started=None):
    """Answer the Dial action of a transfer state.

    ``tried`` / ``started``: from the action URL of sequential ringing (members already rung, and
    when ringing began); the next free member is rung while the group's ring timeout allows.
    """
    walk = _Walk(definition, ctx)
    state = walk.state(state_id)
    if dial_call_status in ('completed', 'answered'):
        walk.note(state_id, const.STEP_ANSWERED)
        walk.end('completed')
    elif started is not None:
        walk.ring_next_member(state_id, state, tried, started)
    elif dial_call_status == 'busy':
        walk.follow(state_id, 'busy')
    else:  # no-answer, failed, canceled
        walk.follow(state_id, 'timeout')
    return walk.step()


def on_record(definition, state_id, recording_duration, ctx):
    """Answer the Record action of a voicemail state."""
    walk = _Walk(definition, ctx)
    if not int(recording_duration or 0):
        walk.follow(state_id, 'timeout')
    else:
        _, voice = walk.speaker(state_id)
        walk.note(state_id, const.STEP_VOICEMAIL)
        walk.response.say(_('Thank you, your message has been recorded. Goodbye.'), **voice)
        walk.end('voicemail')
    return walk.step()


def queue_wait(definition, state_id, ctx, loop=0, position=None, average_wait=None):
    """Answer the waitUrl of a queue: notification, hold music, then leave the queue.

    Twilio would fetch the waitUrl again when its TwiML ends; <Leave/> stops that once the music
    has played ``music_loops`` times, and the Enqueue action then raises ``timeout``.

    With ``announce_position`` or a call-back offer, each loop of the music is one answer: the
    caller's ``position`` and the queue's ``average_wait`` (seconds), which Twilio sends afresh to
    every request of the waitUrl, are announced before it, the call-back offer is a <Gather>
    around it, and a <Redirect> to the waitUrl with the next ``loop`` follows it.
    """
    walk = _Walk(definition, ctx)
    queue = queue_settings(walk.state(state_id)) or {}
    key = callback_key(queue)
    _, voice = walk.speaker(state_id)
    if loop == 0:
        walk.play(walk.response, queue.get('notify'))
    if not key and not queue.get('announce_position'):
        walk.play(walk.response, queue.get('music'), loop=setting(queue, 'music_loops'))
        walk.response.leave()
        return walk.step()
    if queue.get('announce_position') and position:
        walk.response.say(_('You are number %(position)s in the queue.') % {'position': position},
                          **voice)
        if average_wait:
            minutes = max(1, round(average_wait / 60))
            walk.response.say(
                _('The estimated wait is about %(minutes)s minutes.') % {'minutes': minutes}
                if minutes > 1 else _('The estimated wait is about one minute.'), **voice)
    if key:
        gather = walk.response.gather(num_digits=1, timeout=1, method='POST',
                                      action=ctx.url('queue_key', state=state_id, loop=loop))
        offer = (_('Press star to be called back instead of waiting.') if key == '*' else
                 _('Press %(key)s to be called back instead of waiting.') % {'key': key})
        gather.say(offer, **voice)
        walk.play(gather, queue.get('music'))
    else:
        walk.play(walk.response, queue.get('music'))
    if loop + 1 < setting(queue, 'music_loops'):
        walk.response.redirect(ctx.url('queue_wait', state=state_id, loop=loop + 1),
                               method='POST')
    else:
        walk.response.leave()
    return walk.step()


def on_queue_key(definition, state_id, digits, ctx, loop=0):
    """Answer a key pressed while waiting in a queue (the Gather of its call-back offer).

    The call-back key: the caller hears that they will be called back and the call ends, which
    takes it out of the queue (Twilio then requests the Enqueue action with ``hangup``); the
    people of the state (its user, or its group's members) are those who should call back. Any
    other key: the hold music goes on where it was.
    """
    walk = _Walk(definition, ctx)
    state = walk.state(state_id)
    key = callback_key(queue_settings(state) or {})
    if key and digits == key:
        _, voice = walk.speaker(state_id)
        walk.note(state_id, const.STEP_CALLBACK)
        walk.response.say(_('Thank you. We will call you back as soon as possible. Goodbye.'),
                          **voice)
        walk.end('callback')
        walk.callback_user_ids = (ctx.group_members(state.get('group_id'))
                                  if state.get('type') == 'transfer_group'
                                  else [state.get('user_id')])
    else:
        walk.response.redirect(ctx.url('queue_wait', state=state_id, loop=loop), method='POST')
    return walk.step()


# QueueResult → (event to follow, or None to end the call; outcome when it ends).
QUEUE_RESULTS = {
    'leave': ('timeout', None),
    'error': ('timeout', None),
    'system-error': ('timeout', None),
    'queue-full': ('busy', None),
    'bridged': (None, 'completed'),
    'bridging-in-process': (None, 'completed'),
    'hangup': (None, 'missed'),
}
# Taken out of the queue through the REST API (an agent became free): Twilio requests the
# Enqueue action right away while the call already runs the TwiML it was redirected to, so the
# answer is left empty rather than ending a call that goes on elsewhere.
REDIRECTED = 'redirected'


def on_queue_result(definition, state_id, queue_result, ctx):
    """Answer the Enqueue action: the call left the queue."""
    walk = _Walk(definition, ctx)
    if queue_result == REDIRECTED:
        walk.state(state_id)
        return walk.step()
    event, outcome = QUEUE_RESULTS.get(queue_result, ('timeout', None))
    if event:
        walk.follow(state_id, event)
    else:
        walk.note(state_id, const.STEP_BRIDGED if outcome == 'completed' else const.STEP_HANGUP)
        walk.end(outcome)
    return walk.step()


def connect_from_queue(definition, state_id, user_id, ctx):
    """Answer the URL a queued caller is sent to when ``user_id`` became free.

    The Odoo layer takes the longest-waiting caller out of the queue (Twilio's Queue API) and
    points the call here: the freed user's softphone rings with the state's settings, and the
    Dial action goes on like any other of the state (answered, or its ``timeout``).
    """
    walk = _Walk(definition, ctx)
    state = walk.state(state_id)
    walk.note(state_id, const.STEP_DEQUEUED)
    walk.dial(state_id, state, [user_id], setting(state, 'ring_timeout'))
    return walk.step()


# ---------------------------------------------------------------------------------------------
# Webhooks: the parameters of each action route ``FLOW_ROUTE + <action>`` → its decision
# ---------------------------------------------------------------------------------------------

def _webhook(decide):
    """``answer_<action>(definition, params, ctx)``: read the route's ``state`` and call
    ``decide(definition, state_id, params, ctx)``; FlowError when the parameters make no sense."""
    def answer(definition, params, ctx):
        state_id = params.get('state')
        if not state_id:
            raise FlowError('The webhook has no state.')
        try:
            return decide(definition, state_id, params, ctx)
        except ValueError as error:
            raise FlowError('Malformed webhook parameters: %s' % error) from error
    answer.__doc__ = decide.__doc__
    return answer


@_webhook
def answer_gather(definition, state_id, params, ctx):
    """Gather action of an IVR state: ``Digits``, and ``invalid`` keys so far."""
    return on_gather(definition, state_id, params.get('Digits'), ctx,
                     invalid=int(params.get('invalid') or 0))


@_webhook
def answer_dial(definition, state_id, params, ctx):
    """Dial action of a transfer state: ``DialCallStatus``; ``tried``/``started`` of sequential
    ringing."""
    started = params.get('started')
    tried = tuple(int(user_id) for user_id in params.get('tried', '').split(',') if user_id)
    return on_dial(definition, state_id, params.get('DialCallStatus'), ctx, tried=tried,
                   started=int(started) if started else None)


@_webhook
def answer_record(definition, state_id, params, ctx):
    """Record action of a voicemail state: ``RecordingDuration``."""
    return on_record(definition, state_id, params.get('RecordingDuration'), ctx)


@_webhook
def answer_queue_wait(definition, state_id, params, ctx):
    """waitUrl of a queue: ``QueuePosition``, ``AvgQueueTime``, and our ``loop``."""
    return queue_wait(definition, state_id, ctx, loop=int(params.get('loop') or 0),
                      position=int(params.get('QueuePosition') or 0),
                      average_wait=int(params.get('AvgQueueTime') or 0))


@_webhook
def answer_queue_key(definition, state_id, params, ctx):
    """Gather action of a queue's call-back offer: ``Digits``, and our ``loop``."""
    return on_queue_key(definition, state_id, params.get('Digits'), ctx,
                        loop=int(params.get('loop') or 0))


@_webhook
def answer_queue_result(definition, state_id, params, ctx):
    """Enqueue action: ``QueueResult``."""
    return on_queue_result(definition, state_id, params.get('QueueResult'), ctx)


@_webhook
def answer_connect(definition, state_id, params, ctx):
    """The URL a dequeued caller is sent to: ``user``, the telephony user who became free."""
    if not params.get('user'):
        raise FlowError('The connect webhook names no user.')
    return connect_from_queue(definition, state_id, int(params['user']), ctx)


@_webhook
def answer_event(definition, state_id, params, ctx):
    """A Redirect of ours: leave the state through ``event``."""
    if not params.get('event'):
        raise FlowError('The event webhook names no event.')
    return on_event(definition, state_id, params['event'], ctx)


# ---------------------------------------------------------------------------------------------
# When a webhook fails
# ---------------------------------------------------------------------------------------------

def apology(definition=None, ctx=None):
    """The Step answered when a webhook fails: an apology, then the flow's first voicemail
    state (in walk order) when there is one and a context to build it, else a polite hangup
    (outcome 'missed').

    Never raises: it is the last answer the caller gets. Said in the company's language.
    """
    language, _ = None, identity
    try:
        if ctx:
            language = ctx.language()
            _ = lambda text: ctx.translate(text, language)  # noqa: E731
        text = _('We are sorry, something went wrong.')
    except Exception:  # noqa: BLE001 -- the fault may be in ctx itself: say it in English
        _logger.exception('Could not translate the apology after a failed webhook')
        language, text = None, 'We are sorry, something went wrong.'
    try:
        loaded = load_definition(definition) if definition else {}
        voicemail = next((state_id for state_id in walk_order(loaded)
                          if states_of(loaded)[state_id].get('type') == 'voicemail'), None)
        if voicemail and ctx:
            walk = _Walk(loaded, ctx)
            walk.response.say(text, **speech.prompt_attributes(language))
            walk.enter(voicemail)
            return walk.step()
    except Exception:  # noqa: BLE001 -- the fault may be in ctx itself; fall back to hanging up
        _logger.exception('Could not offer voicemail after a failed webhook')
    return Step(twiml=twiml.say_and_hang_up(text, language), outcome='missed')


def apology_twiml(definition=None, ctx=None):
    """The TwiML of :func:`apology`."""
    return apology(definition, ctx).twiml
