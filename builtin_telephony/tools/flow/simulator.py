"""The flow simulator (walk a flow as a caller, no real call): plain Python, no Odoo.

It plays Twilio's part against the runtime's own entry points (``start``, the ``answer_<action>``
of each action route, ``apology``):
each answer is TwiML the engine built exactly as for a real call; the simulator executes it verb
by verb as Twilio would (``<Say>``/``<Play>`` are heard, ``<Redirect>`` is followed, ``<Gather>``,
``<Record>`` and ``<Dial>`` wait for what the caller or the people rung do) and requests the
verb's action URL with Twilio's parameters. What the caller or the people rung do comes from
``choices``, one per decision, in order:

* ``<Gather>`` (an IVR menu): a key ``'0'``–``'9'``, ``'*'``, or ``''`` for no key;
* ``<Dial>`` (someone's softphone rings): ``'answered'``, ``'no-answer'``, or ``'busy'`` /
  ``'offline'`` — then the people of that transfer state are busy (on another call) /
  offline, and the request is answered again knowing it, as the engine would have answered a
  call arriving while they were;
* ``<Record>`` (voicemail): ``'message'`` (a message is left) or ``''`` (none);
* a queue's call-back offer (a ``<Gather>`` in its wait music): the key, or ``''`` to wait on.

Business-hours states are open or closed as their calendars say now, or as ``hours`` says.

When the choices run out at a decision, the walk stops there and says what it waits for.
Nothing is stored: the context answers from memory (no queue has callers, nobody is busy or
offline unless a choice said so) and its URLs point nowhere.
"""
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlencode, urlsplit

from ... import const
from . import runtime
from .definition import IVR_KEYS, FlowError, callback_key, load_definition

SIMULATOR_BASE = 'https://simulator.invalid' + const.FLOW_ROUTE
TRANSFER_CHOICES = ('answered', 'no-answer', 'busy', 'offline')
VOICEMAIL_CHOICES = ('message', '')
IVR_CHOICES = IVR_KEYS + ('',)
MESSAGE_SECONDS = 12      # length of a message left in the simulation
MAX_REQUESTS = 500        # a valid flow ends long before; a broken one must not hang


class SimulationError(ValueError):
    """The choices do not fit the decisions the flow asks for."""


class SimulatedContext:
    """``runtime.CallContext`` of a simulated call, over ``base``: the context a real call of
    the flow would get (the Odoo model builds it), for everything read-only — group members in
    sign-in order, softphone identities, URLs, the language and translation of spoken prompts.

    What would depend on the moment or leave a trace is the simulation's: users are available
    unless a choice made them busy or offline (``statuses``), queues are empty, audio files are
    named by their URL without an access token, and time passes as the call goes (ringing lasts
    the Dial's timeout).
    """

    def __init__(self, base, hours=None):
        self._base = base
        self.hours = hours
        self.statuses = {}
        self.clock = 1_000_000.0

    def __getattr__(self, name):
        return getattr(self._base, name)

    def user_status(self, user_id):
        return self.statuses.get(user_id, 'available')

    def queue_size(self, queue_name):
        return 0

    def is_open(self, calendar_id):
        if self.hours in ('open', 'closed'):
            return self.hours == 'open'
        return self._base.is_open(calendar_id)

    def audio_url(self, message):
        attachment_id = message.get('attachment_id')
        return '/web/content/%s' % attachment_id if attachment_id else None

    def now(self):
        return self.clock


def _action(url):
    """``(action, params)`` of a URL the engine built through ``ctx.url``."""
    parts = urlsplit(url)
    return parts.path.rsplit('/', 1)[-1], dict(parse_qsl(parts.query, keep_blank_values=True))


def _heard(verb):
    """What the caller hears of a <Say> or <Play> (with its loops)."""
    text = (verb.text or '').strip()
    if verb.tag == 'Play':
        text = '♪ %s' % text
    loops = int(verb.get('loop') or 1)
    return '%s (×%s)' % (text, loops) if loops > 1 else text


def _spoken(verb):
    if verb.tag in ('Say', 'Play'):
        return [_heard(verb)]
    if verb.tag == 'Gather':
        return [_heard(nested) for nested in verb if nested.tag in ('Say', 'Play')]
    return []


class _Simulation:

    def __init__(self, definition, choices, ctx):
        self.definition = load_definition(definition)
        self.states = self.definition.get('states') or {}
        self.choices = list(choices)
        self.used = 0
        self.ctx = ctx
        self.steps = []
        self.waiting = None
        self.end = None
        self.requests = 0

    # -- The engine's answers ----------------------------------------------------------------

    def answer(self, request):
        """The engine's Step for a request: ``('start', {})`` or ``(action, params)``; a
        fault gets the apology a real call gets."""
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            raise SimulationError('The simulated call does not end.')
        action, params = request
        try:
            if action == 'start':
                return runtime.start(self.definition, self.ctx)
            if action not in const.FLOW_ACTIONS:
                raise FlowError('Unknown webhook action %r.' % action)
            return getattr(runtime, 'answer_' + action)(self.definition, params, self.ctx)
        except FlowError:
            return runtime.apology(self.definition, self.ctx)

    def record(self, step, root):
        """Add the step's log entries, each with what was said while it was the current one
        (``step.marks``: how many verbs the TwiML had when each entry was noted)."""
        verbs = list(root)
        marks = list(step.marks) if len(step.marks) == len(step.log) else [0] * len(step.log)
        bounds = marks + [len(verbs)]
        # What comes before the first entry (an apology) is said as the call reaches it.
        bounds[0] = 0
        added = []
        for index, entry in enumerate(step.log):
            said = [text for verb in verbs[bounds[index]:bounds[index + 1]]
                    for text in _spoken(verb)]
            added.append({'state': entry.state_id, 'event': entry.event, 'said': ' '.join(said)})
        if not added:
            said = ' '.join(text for verb in verbs for text in _spoken(verb))
            if said and self.steps:
                # A queue's wait URL: heard while waiting in the state that queued the call.
                previous = self.steps[-1]
                previous['said'] = ' '.join(filter(None, [previous['said'], said]))
            elif said:
                added.append({'state': '', 'event': 'said', 'said': said})
        self.steps.extend(added)

    # -- Choices -------------------------------------------------------------------------

    def take(self, kind, state_id, allowed):
        if self.used >= len(self.choices):
            self.waiting = {'state': state_id, 'kind': kind, 'options': list(allowed)}
            return None
        choice = self.choices[self.used]
        self.used += 1
        choice = '' if choice in (None, False) else str(choice)
        if choice not in allowed:
            raise SimulationError(
                'Choice %s (%r) does not fit the %s at state %r: expected one of %s.'
                % (self.used, choice, kind, state_id, ', '.join(repr(c) for c in allowed)))
        return choice

    def people(self, state_id):
        state = self.states.get(state_id) or {}
        if state.get('type') == 'transfer_user':
            return [state.get('user_id')]
        return self.ctx.group_members(state.get('group_id'))

    # -- Twilio's part -------------------------------------------------------------------

    def run(self):
        request = ('start', {})
        while request and not self.waiting:
            request = self.execute(request)
        if not self.waiting and self.end is None:
            self.end = 'missed'

    def execute(self, request):
        """Answer ``request`` and run its TwiML; return the next request, or None."""
        recorded = len(self.steps)
        step = self.answer(request)
        root = ET.fromstring(step.twiml)
        self.record(step, root)
        verbs = list(root)
        while verbs:
            verb = verbs.pop(0)
            tag = verb.tag
            if tag in ('Say', 'Play', 'Pause'):
                continue
            if tag == 'Redirect':
                return _action(verb.text)
            if tag == 'Gather':
                state_id = _action(verb.get('action'))[1].get('state')
                key = self.take('ivr', state_id, IVR_CHOICES)
                if key is None:
                    return None
                if key:
                    action, params = _action(verb.get('action'))
                    return action, dict(params, Digits=key)
                continue  # no key: Twilio goes on with the verbs after <Gather>
            if tag == 'Record':
                action, params = _action(verb.get('action'))
                left = self.take('voicemail', params.get('state'), VOICEMAIL_CHOICES)
                if left is None:
                    return None
                if left:
                    return action, dict(params, RecordingDuration=str(MESSAGE_SECONDS))
                continue  # no message: Twilio skips the action, goes on with the next verbs
            if tag == 'Dial':
                action, params = _action(verb.get('action'))
                state_id = params.get('state')
                outcome = self.take('transfer', state_id, TRANSFER_CHOICES)
                if outcome is None:
                    return None
                if outcome in ('busy', 'offline'):
                    # The people of this state were busy / offline when the call came:
                    # answer the same request again, knowing it.
                    for user_id in self.people(state_id):
                        self.ctx.statuses[user_id] = outcome
                    del self.steps[recorded:]
                    return request
                self.ctx.clock += int(verb.get('timeout') or 30)
                status = 'completed' if outcome == 'answered' else 'no-answer'
                return action, dict(params, DialCallStatus=status)
            if tag == 'Enqueue':
                # Nobody frees up in a simulation: the caller waits through the wait URL's
                # TwiML (hold music, position, call-back offer) until it leaves the queue.
                action, params = _action(verb.get('action'))
                return self.wait_in_queue(verb, action, params)
            if tag == 'Hangup':
                break
            if tag == 'Reject':
                self.end = 'rejected'
                return None
            raise SimulationError('Unexpected TwiML verb <%s>.' % tag)
        self.end = step.outcome or 'missed'
        return None


    def wait_in_queue(self, enqueue, action, params):
        """Run the wait URL's TwiML as Twilio does for a queued caller (first in the queue,
        no known wait); return the next request: the Enqueue action, or the call-back key's."""
        wait = ('queue_wait',) + (_action(enqueue.get('waitUrl'))[1],)
        while True:
            action_wait, params_wait = wait
            answer = self.answer((action_wait, dict(params_wait, QueuePosition='1',
                                                   AvgQueueTime='0', QueueTime='0')))
            self.record(answer, ET.fromstring(answer.twiml))
            wait = None
            for verb in ET.fromstring(answer.twiml):
                if verb.tag == 'Gather':
                    key_action, key_params = _action(verb.get('action'))
                    state_id = key_params.get('state')
                    key = self.take('queue', state_id, (self.callback_key(state_id), ''))
                    if key is None:
                        return None
                    if key:
                        return key_action, dict(key_params, Digits=key)
                elif verb.tag == 'Redirect':
                    wait = _action(verb.text)
                    break
                elif verb.tag == 'Leave':
                    break
            if wait is None:
                return action, dict(params, QueueResult='leave')

    def callback_key(self, state_id):
        return callback_key((self.states.get(state_id) or {}).get('queue'))


def simulate(definition, choices, ctx):
    """Walk ``definition`` with ``choices`` (see the module) in the simulated context ``ctx``.

    Answers ``{'path': [state ids entered, in order], 'steps': [{'state', 'event', 'said'}],
    'end': 'completed' | 'voicemail' | 'busy' | 'missed' | 'rejected' | 'waiting',
    'waiting': {'state', 'kind', 'options'} or False, 'choices_used': int}``.
    """
    simulation = _Simulation(definition, choices, ctx)
    simulation.run()
    steps = simulation.steps
    return {
        'path': [step['state'] for step in steps if step['event'] == 'entered'],
        'steps': steps,
        'end': 'waiting' if simulation.waiting else simulation.end,
        'waiting': simulation.waiting or False,
        'choices_used': simulation.used,
    }
