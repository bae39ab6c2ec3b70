"""The call-flow engine: plain Python over the call-flow JSON (CONTRACTS.md), no Odoo, no database.

A flow is a set of **states** keyed by id, plus a ``start`` naming the first one. Each state has a
``type`` and connections in ``next``: a mapping *event → state id*. The events a type can raise:

================  ==========================================================================
announce          ``next`` once the message has played
ivr               the key pressed (``0``–``9``, ``*``) or ``timeout`` (no key within 5 s, or
                  an invalid key once the menu was replayed 3 times)
transfer_user,    ``timeout`` (nobody answered), ``unavailable`` (offline), ``busy`` (busy and no
transfer_group    room in the queue, or the line was busy)
voicemail         ``timeout`` (the caller left no message)
================  ==========================================================================

An event with no connection ends the call politely. Valid flows have no cycles (F2), so every
walk ends.

Three things live here:

* :func:`validate_definition` lists every problem of a definition in words an administrator
  understands; :func:`describe_definition` turns one into readable lines for the draft/published
  comparison.
* The runtime: a call is walked state by state over Twilio webhooks. Each entry point answers one
  webhook with a :class:`Step` (the TwiML plus what to store on the call). States that need no
  answer from Twilio (announcements, an offline user...) are chained inline in the same response.

  ==============================  =========================  =================================
  webhook (route action)          Twilio parameters used     entry point
  ==============================  =========================  =================================
  ``/telephony/twilio/voice``     —                          :func:`start`
  ``gather`` (Gather action)      ``Digits``                 :func:`on_gather`
  ``dial`` (Dial action)          ``DialCallStatus``         :func:`on_dial`
  ``record`` (Record action)      ``RecordingDuration``      :func:`on_record`
  ``queue_wait`` (waitUrl)        —                          :func:`queue_wait`
  ``queue_result`` (Enqueue act.) ``QueueResult``            :func:`on_queue_result`
  ``event`` (our Redirects)       —                          :func:`on_event`
  ``connect`` (dequeued caller)   —                          :func:`connect_from_queue`
  ==============================  =========================  =================================

  :func:`handle` dispatches an action route's parameters (its query string merged with Twilio's
  POST form) to the right entry point, so controllers never read Twilio's parameter names.
  Everything the engine needs from the outside comes through a :class:`CallContext`.
  Everything it needs to remember between two webhooks travels in the action URLs it builds
  (``state``, ``event``, ``invalid``, ``tried``, ``started``): Twilio signs those URLs, so they are
  tamper-proof, and no server-side state is kept.
* :func:`apology_twiml` and :func:`reject_twiml`, the answers outside the normal walk.

User-facing strings go through ``_``: validation and description take it as a keyword (the Odoo
model passes ``self.env._``); spoken prompts go through ``ctx.translate``.
"""

import json
import logging
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol
from urllib.parse import urlparse

from twilio.twiml.voice_response import VoiceResponse

_logger = logging.getLogger(__name__)

IVR_KEYS = ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*')
EVENTS = {
    'announce': ('next',),
    'ivr': IVR_KEYS + ('timeout',),
    'transfer_user': ('timeout', 'unavailable', 'busy'),
    'transfer_group': ('timeout', 'unavailable', 'busy'),
    'voicemail': ('timeout',),
}
MAX_INCOMING = 10
MAX_IVR_KEYS = len(IVR_KEYS)
IVR_TIMEOUT = 5          # seconds of silence after the menu (F1)
MAX_MENU_REPLAYS = 3     # the menu is played again at most this many times after invalid keys
# Twilio's <Dial> rings for at least 5 s; less than that left of a group's ring timeout is spent.
MIN_RING_TIME = 5
RING_STRATEGIES = ('parallel', 'sequential')
CLIENT_EVENTS = 'ringing answered completed'
# Settings missing from a definition take these values, in validation, description and runtime.
DEFAULTS = {
    'ring_timeout': 30,
    'user_timeout': 15,
    'ring_strategy': 'parallel',
    'max_calls': 5,
    'music_loops': 3,
    'timeout': 5,         # voicemail: seconds of silence that end the message
    'max_length': 120,    # voicemail: longest message, in seconds
}
# Inclusive ranges of the numeric settings.
RANGES = {
    'ring_timeout': (5, 120),
    'user_timeout': (5, 120),
    'max_calls': (1, 50),
    'music_loops': (1, 20),
    'timeout': (1, 60),
    'max_length': (1, 120),
}


def _identity(text):
    return text


class FlowError(Exception):
    """The definition or the webhook parameters do not allow a next step (answer the apology)."""


# ---------------------------------------------------------------------------------------------
# Reading a definition
# ---------------------------------------------------------------------------------------------

def load_definition(definition):
    """Return the definition as a dict, parsing it when it is a JSON string."""
    if isinstance(definition, (str, bytes)):
        return json.loads(definition)
    return definition


def _states(definition):
    """The states that are objects, by id (a malformed definition gives what can be read)."""
    states = definition.get('states') if isinstance(definition, dict) else None
    if not isinstance(states, dict):
        return {}
    return {state_id: state for state_id, state in states.items() if isinstance(state, dict)}


def _connections(state):
    connections = state.get('next')
    return connections if isinstance(connections, dict) else {}


def _ordered_connections(state):
    """``(event, target)`` pairs in the order of the state type's events (keys 0-9, *, then
    timeout…), whatever the order of the JSON: a draft and its published copy read the same."""
    rank = {event: index for index, event in enumerate(EVENTS.get(state.get('type'), ()))}
    return sorted(_connections(state).items(), key=lambda item: rank.get(item[0], len(rank)))


def _is_state(state_id, states):
    return isinstance(state_id, str) and state_id in states


def _state_name(state_id, state):
    return str(state.get('name') or state_id)


def _setting(settings, key):
    value = settings.get(key)
    return DEFAULTS[key] if value is None else value


def _queue_settings(state):
    """The queue settings of a transfer state when its queue is on, else None."""
    queue = state.get('queue')
    return queue if isinstance(queue, dict) and queue.get('enabled') else None


def walk_order(definition):
    """State ids in a stable order: the start, then breadth-first, then the unreachable ones."""
    states = _states(definition)
    start = definition.get('start') if isinstance(definition, dict) else None
    order, queue = [], deque([start] if _is_state(start, states) else [])
    while queue:
        state_id = queue.popleft()
        if state_id in order:
            continue
        order.append(state_id)
        queue.extend(target for _event, target in _ordered_connections(states[state_id])
                     if _is_state(target, states) and target not in order)
    return order + [state_id for state_id in states if state_id not in order]


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

def validate_definition(definition, users=None, groups=None, _=_identity):
    """Every problem of ``definition`` (dict or JSON string), one sentence each; [] when valid.

    ``users`` / ``groups``: the ids of the telephony users / groups of the flow's company (any
    container supporting ``in``); None skips that check.
    """
    try:
        definition = load_definition(definition)
    except ValueError as error:
        return [_('The call flow is not valid JSON: %(error)s') % {'error': error}]
    if not isinstance(definition, dict) or not isinstance(definition.get('states'), dict):
        return [_('The call flow must be a JSON object with a "start" and "states".')]
    problems = _check_start(definition, _)
    for state_id, state in definition['states'].items():
        problems += _check_state(definition, state_id, state, users, groups, _)
    problems += _check_incoming(definition, _)
    problems += _check_cycles(definition, _)
    return problems


def _check_start(definition, _):
    start = definition.get('start')
    if not start:
        return [_('The call flow has no start: connect the start to a state.')]
    if not _is_state(start, _states(definition)):
        return [_('The start is connected to "%(target)s", which is not a state of this flow.')
                % {'target': start}]
    return []


def _check_state(definition, state_id, state, users, groups, _):
    if not isinstance(state, dict):
        return [_('State "%(state)s" is not a valid state.') % {'state': state_id}]
    label = _state_name(state_id, state)
    state_type = state.get('type')
    if state_type not in EVENTS:
        problems = [_('State "%(state)s" has an unknown type "%(type)s".')
                    % {'state': label, 'type': state_type}]
    else:
        problems = _check_events(label, state, _)
        problems += STATE_CHECKS[state_type](label, state, users, groups, _)
    if state.get('next') is not None and not isinstance(state['next'], dict):
        problems.append(_('State "%(state)s": its connections must map events to states.')
                        % {'state': label})
    states = _states(definition)
    for event, target in _connections(state).items():
        if target and not _is_state(target, states):
            problems.append(
                _('State "%(state)s": the %(event)s connection leads to "%(target)s", which is not '
                  'a state of this flow.')
                % {'state': label, 'event': _event_label(event, _), 'target': target})
    return problems


def _event_label(event, _):
    labels = {'next': _('next'), 'timeout': _('timeout'), 'busy': _('busy'),
              'unavailable': _('unavailable')}
    if event in labels:
        return labels[event]
    if event in IVR_KEYS:
        return _('key %(key)s') % {'key': event}
    return '"%s"' % event


def _allowed_events_label(state_type, _):
    if state_type == 'ivr':
        return _('keys 0 to 9 and *, timeout')
    return ', '.join(_event_label(event, _) for event in EVENTS[state_type])


def _type_label(state_type, _):
    labels = {
        'announce': _('Announce'),
        'ivr': _('IVR menu'),
        'transfer_user': _('Transfer to user'),
        'transfer_group': _('Transfer to group'),
        'voicemail': _('Voicemail'),
    }
    return labels.get(state_type, str(state_type))


def _check_events(label, state, _):
    state_type = state['type']
    problems = [
        _('State "%(state)s" (%(type)s) cannot have a %(event)s connection; it can have: '
          '%(allowed)s.')
        % {'state': label, 'type': _type_label(state_type, _), 'event': _event_label(event, _),
           'allowed': _allowed_events_label(state_type, _)}
        for event in _connections(state) if event not in EVENTS[state_type]
    ]
    if state_type == 'ivr':
        keys = [event for event in _connections(state) if event != 'timeout']
        if len(keys) > MAX_IVR_KEYS:
            problems.append(
                _('State "%(state)s" has %(count)s menu keys; an IVR menu has at most 11 keys '
                  '(0 to 9 and *).') % {'state': label, 'count': len(keys)})
    return problems


def _check_range(label, settings, key, setting_label, _):
    value = _setting(settings, key)
    low, high = RANGES[key]
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return []
    return [_('State "%(state)s": %(setting)s must be a whole number from %(low)s to %(high)s '
              '(it is %(value)s).')
            % {'state': label, 'setting': setting_label, 'low': low, 'high': high, 'value': value}]


def _check_message(label, message, what, _, audio_only=False):
    """Problems of a message; ``what`` names it in the sentence ("announcement", ...)."""
    params = {'state': label, 'what': what}
    if not isinstance(message, dict):
        return [_('State "%(state)s": the %(what)s is missing.') % params]
    kind = message.get('kind')
    if kind == 'text' and not audio_only:
        text = message.get('text')
        if not isinstance(text, str) or not text.strip():
            return [_('State "%(state)s": the %(what)s has no text to read.') % params]
    elif kind == 'url':
        url = message.get('url')
        parsed = urlparse(url) if isinstance(url, str) else None
        if not parsed or parsed.scheme not in ('http', 'https') or not parsed.netloc:
            return [_('State "%(state)s": the %(what)s needs an http:// or https:// URL.') % params]
    elif kind == 'file':
        if not message.get('attachment_id'):
            return [_('State "%(state)s": the %(what)s needs an uploaded audio file.') % params]
    elif audio_only:
        return [_('State "%(state)s": the %(what)s must be an audio file or an audio URL.')
                % params]
    else:
        return [_('State "%(state)s": the %(what)s must be a text to read, an audio file or an '
                  'audio URL.') % params]
    return []


def _check_announce(label, state, users, groups, _):
    return _check_message(label, state.get('message'), _('message'), _)


def _check_ivr(label, state, users, groups, _):
    return _check_message(label, state.get('message'), _('announcement'), _)


def _check_voicemail(label, state, users, groups, _):
    return (_check_message(label, state.get('message'), _('prompt'), _)
            + _check_range(label, state, 'timeout', _('the silence timeout (seconds)'), _)
            + _check_range(label, state, 'max_length',
                           _('the maximum message length (seconds)'), _))


def _check_transfer(label, state, _):
    """The settings both transfer types share: ring timeout and queue."""
    problems = _check_range(label, state, 'ring_timeout', _('the ring timeout (seconds)'), _)
    queue = state.get('queue')
    if queue is not None and not isinstance(queue, dict):
        return problems + [_('State "%(state)s": the queue settings are not valid.')
                           % {'state': label}]
    queue = _queue_settings(state)
    if queue:
        problems += _check_range(label, queue, 'max_calls',
                                 _('the maximum number of calls in the queue'), _)
        problems += _check_range(label, queue, 'music_loops',
                                 _('the number of times the hold music plays'), _)
        if queue.get('notify'):
            problems += _check_message(label, queue['notify'], _('caller notification'), _)
        problems += _check_message(label, queue.get('music'), _('hold music'), _, audio_only=True)
    return problems


def _check_transfer_user(label, state, users, groups, _):
    problems = _check_transfer(label, state, _)
    user_id = state.get('user_id')
    if not user_id:
        problems.append(_('State "%(state)s": choose the user to transfer the call to.')
                        % {'state': label})
    elif users is not None and user_id not in users:
        problems.append(_('State "%(state)s": telephony user #%(id)s does not exist in the '
                          "flow's company.") % {'state': label, 'id': user_id})
    return problems


def _check_transfer_group(label, state, users, groups, _):
    problems = _check_transfer(label, state, _)
    group_id = state.get('group_id')
    if not group_id:
        problems.append(_('State "%(state)s": choose the group to transfer the call to.')
                        % {'state': label})
    elif groups is not None and group_id not in groups:
        problems.append(_('State "%(state)s": telephony group #%(id)s does not exist in the '
                          "flow's company.") % {'state': label, 'id': group_id})
    strategy = _setting(state, 'ring_strategy')
    if strategy not in RING_STRATEGIES:
        problems.append(_('State "%(state)s": the ring type must be "parallel" or "sequential" '
                          '(it is "%(value)s").') % {'state': label, 'value': strategy})
    elif strategy == 'sequential':
        # The time per member only matters when members are rung one at a time.
        range_problems = _check_range(label, state, 'user_timeout',
                                      _('the ringing time per member (seconds)'), _)
        user_timeout = _setting(state, 'user_timeout')
        ring_timeout = _setting(state, 'ring_timeout')
        if not range_problems and isinstance(ring_timeout, int) and user_timeout > ring_timeout:
            range_problems.append(
                _('State "%(state)s": the ringing time per member (%(user_timeout)s s) cannot be '
                  'longer than the ring timeout (%(ring_timeout)s s).')
                % {'state': label, 'user_timeout': user_timeout, 'ring_timeout': ring_timeout})
        problems += range_problems
    return problems


STATE_CHECKS = {
    'announce': _check_announce,
    'ivr': _check_ivr,
    'transfer_user': _check_transfer_user,
    'transfer_group': _check_transfer_group,
    'voicemail': _check_voicemail,
}


def _check_incoming(definition, _):
    states = _states(definition)
    incoming = Counter(target for state in states.values()
                       for target in _connections(state).values() if _is_state(target, states))
    if _is_state(definition.get('start'), states):
        incoming[definition['start']] += 1
    return [_('State "%(state)s" has %(count)s incoming connections; a state accepts at most '
              '%(max)s (the start counts as one).')
            % {'state': _state_name(state_id, states[state_id]), 'count': count,
               'max': MAX_INCOMING}
            for state_id, count in incoming.items() if count > MAX_INCOMING]


def find_cycles(definition):
    """Each cycle once, as the list of state ids along it (first id repeated at the end).

    Depth-first search from the start, then from the states not reached yet; every edge back to a
    state on the current path closes one cycle. Iterative, so a huge flow cannot overflow the stack.
    """
    states = _states(definition)
    targets = {state_id: [t for t in _connections(state).values() if _is_state(t, states)]
               for state_id, state in states.items()}
    done, cycles = set(), []
    for root in walk_order(definition):
        if root in done:
            continue
        path, stack = [root], [iter(targets[root])]
        while stack:
            target = next(stack[-1], None)
            if target is None:
                done.add(path.pop())
                stack.pop()
            elif target in path:
                cycle = path[path.index(target):] + [target]
                if cycle not in cycles:  # two keys to the same state close the same cycle
                    cycles.append(cycle)
            elif target not in done:
                path.append(target)
                stack.append(iter(targets[target]))
    return cycles


def _check_cycles(definition, _):
    states = _states(definition)
    return [_('The call flow loops: %(path)s. A call may not come back to a state it has passed; '
              'remove one of these connections.')
            % {'path': ' → '.join(_state_name(state_id, states[state_id]) for state_id in cycle)}
            for cycle in find_cycles(definition)]


# ---------------------------------------------------------------------------------------------
# Description (draft vs published)
# ---------------------------------------------------------------------------------------------

def describe_definition(definition, users=None, groups=None, _=_identity):
    """One dict per state (start first, then breadth-first) with readable lines.

    Keys: ``id``, ``name``, ``type``, ``type_label``, ``settings`` (list of str) and
    ``connections`` (list of str like "Main menu —1→ Sales"). ``users`` / ``groups`` map ids to
    display names. A definition that cannot be read describes as [].
    """
    try:
        definition = load_definition(definition)
    except ValueError:
        return []
    states = _states(definition)
    entries = []
    for state_id in walk_order(definition):
        state = states[state_id]
        name = _state_name(state_id, state)
        describe = STATE_DESCRIBERS.get(state.get('type'))
        entries.append({
            'id': state_id,
            'name': name,
            'type': state.get('type'),
            'type_label': _type_label(state.get('type'), _),
            'settings': describe(state, users or {}, groups or {}, _) if describe else [],
            'connections': [
                '%s —%s→ %s' % (name, event, _state_name(target, states.get(target, {})))
                for event, target in _ordered_connections(state) if target
            ],
        })
    return entries


def _describe_message(message, _):
    if not isinstance(message, dict):
        return _('none')
    kind = message.get('kind')
    if kind == 'text':
        text = _('“%(text)s” read aloud') % {'text': message.get('text', '')}
        if message.get('language'):
            text += ' (%s)' % message['language']
        return text
    if kind == 'url':
        return _('audio %(url)s') % {'url': message.get('url', '')}
    if kind == 'file':
        return _('audio file #%(id)s') % {'id': message.get('attachment_id', '')}
    return _('none')


def _describe_announce(state, users, groups, _):
    return [_('Message: %s') % _describe_message(state.get('message'), _)]


def _describe_ivr(state, users, groups, _):
    return [_('Announcement: %s') % _describe_message(state.get('message'), _),
            _('Menu timeout: %(seconds)s s') % {'seconds': IVR_TIMEOUT}]


def _describe_voicemail(state, users, groups, _):
    return [_('Prompt: %s') % _describe_message(state.get('message'), _),
            _('Silence timeout: %(seconds)s s') % {'seconds': _setting(state, 'timeout')},
            _('Maximum message length: %(seconds)s s') % {'seconds': _setting(state, 'max_length')}]


def _describe_transfer(state, _):
    lines = [_('Ring timeout: %(seconds)s s') % {'seconds': _setting(state, 'ring_timeout')},
             _('Recording: on') if state.get('record') else _('Recording: off')]
    queue = _queue_settings(state)
    if not queue:
        return lines + [_('Queue: off')]
    return lines + [
        _('Queue: up to %(calls)s calls, hold music played %(loops)s times')
        % {'calls': _setting(queue, 'max_calls'), 'loops': _setting(queue, 'music_loops')},
        _('Caller notification: %s') % (_describe_message(queue['notify'], _)
                                         if queue.get('notify') else _('off')),
        _('Hold music: %s') % _describe_message(queue.get('music'), _),
    ]


def _describe_transfer_user(state, users, groups, _):
    user_id = state.get('user_id')
    return [_('User: %s') % users.get(user_id, '#%s' % user_id)] + _describe_transfer(state, _)


def _describe_transfer_group(state, users, groups, _):
    group_id = state.get('group_id')
    if _setting(state, 'ring_strategy') == 'sequential':
        ring_type = (_('Ring type: sequential, %(seconds)s s per member')
                     % {'seconds': _setting(state, 'user_timeout')})
    else:
        ring_type = _('Ring type: parallel')
    return ([_('Group: %s') % groups.get(group_id, '#%s' % group_id), ring_type]
            + _describe_transfer(state, _))


STATE_DESCRIBERS = {
    'announce': _describe_announce,
    'ivr': _describe_ivr,
    'transfer_user': _describe_transfer_user,
    'transfer_group': _describe_transfer_group,
    'voicemail': _describe_voicemail,
}


# ---------------------------------------------------------------------------------------------
# Runtime
# ---------------------------------------------------------------------------------------------

class CallContext(Protocol):
    """What the engine asks of the Odoo layer about the call being walked."""

    def url(self, action: str, **params) -> str:
        """Absolute URL of ``/telephony/twilio/<action>`` with ``params`` in its query string."""

    def user_status(self, user_id: int) -> str:
        """'available', 'busy' or 'offline' (U3)."""

    def client_identity(self, user_id: int) -> str:
        """Twilio Client identity of the user's softphone."""

    def group_members(self, group_id: int) -> list:
        """The group's telephony user ids, in sign-in order (U3)."""

    def queue_name(self, kind: str, record_id: int) -> str:
        """Twilio queue name for ``kind`` 'user' or 'group' (at most 64 characters)."""

    def queue_size(self, queue_name: str) -> int:
        """Number of calls waiting in that queue now."""

    def audio_url(self, message: dict):
        """Public URL of a ``file`` message's audio, or None when it cannot be played."""

    def recording_callback_url(self) -> str:
        """The recording status callback (``/telephony/twilio/recording``)."""

    def client_status_callback_url(self, user_id: int) -> str:
        """Status callback of the leg ringing that user's softphone."""

    def now(self) -> float:
        """Current time, in seconds since the epoch."""

    def translate(self, text: str) -> str:
        """Translate a spoken system prompt."""


class LogEntry(NamedTuple):
    """One step of the call's path. ``event`` is 'entered', an event name ('next', '1',
    'timeout', 'busy', ...) or one of 'invalid_key', 'ringing', 'queued', 'dequeued', 'answered',
    'bridged', 'voicemail', 'hangup'."""
    state_id: str
    state_name: str
    event: str


@dataclass
class Step:
    """The answer to one webhook.

    ``outcome`` is a hint for the call's final status when this answer ends the call:
    'completed' (someone talked to the caller), 'voicemail', 'busy' or 'missed'; None while the
    call goes on. ``user_ids``: the telephony users whose softphones this answer rings.
    """
    twiml: str
    log: list = field(default_factory=list)
    outcome: str | None = None
    user_ids: list = field(default_factory=list)


class _Walk:
    """Builds one TwiML response while walking the states of a definition."""

    def __init__(self, definition, ctx):
        try:
            self.definition = load_definition(definition)
        except ValueError as error:
            raise FlowError('The call flow is not valid JSON: %s' % error) from error
        self.states = _states(self.definition)
        self.ctx = ctx
        self.response = VoiceResponse()
        self.log = []
        self.user_ids = []
        self.outcome = None
        self.entered = 0

    def state(self, state_id):
        if not _is_state(state_id, self.states):
            raise FlowError('The call flow has no state %r.' % state_id)
        return self.states[state_id]

    def note(self, state_id, event):
        self.log.append(LogEntry(state_id, _state_name(state_id, self.state(state_id)), event))

    def enter(self, state_id):
        """Append the TwiML of a state (and of the states it chains to inline)."""
        self.entered += 1
        # Only an unvalidated (cyclic) definition could walk more states than it has.
        if self.entered > len(self.states):
            raise FlowError('The call flow loops through state %r.' % state_id)
        state = self.state(state_id)
        render = RENDERERS.get(state.get('type'))
        if not render:
            raise FlowError('State %r has an unknown type.' % state_id)
        self.note(state_id, 'entered')
        render(self, state_id, state)

    def follow(self, state_id, event):
        """Leave a state through ``event``: enter its target, or end the call politely."""
        self.note(state_id, event)
        target = _connections(self.state(state_id)).get(event)
        if target:
            self.enter(target)
        else:
            self.goodbye('busy' if event == 'busy' else 'missed')

    def goodbye(self, outcome):
        _ = self.ctx.translate
        self.response.say(_('Thank you for calling. Goodbye.'))
        self.end(outcome)

    def end(self, outcome):
        self.response.hangup()
        self.outcome = outcome

    def play(self, verb, message, loop=None):
        """Append a message to ``verb`` (the response or a Gather): text read, audio played."""
        if not isinstance(message, dict):
            return
        kind = message.get('kind')
        if kind == 'text':
            verb.say(message['text'], language=message.get('language'), voice=message.get('voice'),
                     loop=loop)
        elif kind == 'url':
            verb.play(message['url'], loop=loop)
        elif kind == 'file':
            url = self.ctx.audio_url(message)
            if url:
                verb.play(url, loop=loop)

    def step(self):
        return Step(twiml=str(self.response), log=self.log, outcome=self.outcome,
                    user_ids=self.user_ids)


def _render_announce(walk, state_id, state):
    walk.play(walk.response, state.get('message'))
    walk.follow(state_id, 'next')


def _render_ivr(walk, state_id, state, invalid=0):
    params = {'invalid': invalid} if invalid else {}
    gather = walk.response.gather(num_digits=1, timeout=IVR_TIMEOUT, method='POST',
                                  action=walk.ctx.url('gather', state=state_id, **params))
    walk.play(gather, state.get('message'))
    # Without a key, Twilio goes on with the verb after <Gather>.
    walk.response.redirect(walk.ctx.url('event', state=state_id, event='timeout'), method='POST')


def _render_voicemail(walk, state_id, state):
    walk.play(walk.response, state.get('message'))
    walk.response.record(
        max_length=_setting(state, 'max_length'), timeout=_setting(state, 'timeout'),
        play_beep=True, method='POST', action=walk.ctx.url('record', state=state_id),
        recording_status_callback=walk.ctx.recording_callback_url(),
        recording_status_callback_event='completed')
    # Twilio skips the action of a recording without audio and goes on with the next verb.
    walk.response.redirect(walk.ctx.url('event', state=state_id, event='timeout'), method='POST')


def _render_transfer_user(walk, state_id, state):
    user_id = state.get('user_id')
    status = walk.ctx.user_status(user_id)
    if status == 'offline':
        walk.follow(state_id, 'unavailable')
    elif status == 'busy':
        _queue_or_busy(walk, state_id, state, walk.ctx.queue_name('user', user_id))
    else:
        _dial(walk, state_id, state, [user_id], _setting(state, 'ring_timeout'))


def _render_transfer_group(walk, state_id, state):
    members = walk.ctx.group_members(state.get('group_id'))
    statuses = [walk.ctx.user_status(user_id) for user_id in members]
    free = [user_id for user_id, status in zip(members, statuses) if status == 'available']
    if not free:
        if 'busy' in statuses:
            _queue_or_busy(walk, state_id, state,
                           walk.ctx.queue_name('group', state.get('group_id')))
        else:
            walk.follow(state_id, 'unavailable')
    elif _setting(state, 'ring_strategy') == 'sequential':
        _ring_member(walk, state_id, state, free[0], tried=(), started=int(walk.ctx.now()))
    else:
        _dial(walk, state_id, state, free, _setting(state, 'ring_timeout'))


def _ring_member(walk, state_id, state, user_id, tried, started):
    """Sequential ringing: ring one member; the Dial action URL carries who was tried and since
    when, so the next webhook can go on without server-side state."""
    remaining = _setting(state, 'ring_timeout') - (walk.ctx.now() - started)
    tried = tuple(tried) + (user_id,)
    _dial(walk, state_id, state, [user_id], int(min(_setting(state, 'user_timeout'), remaining)),
          tried=','.join(str(member) for member in tried), started=started)


def _dial(walk, state_id, state, user_ids, timeout, **url_params):
    recording = {}
    if state.get('record'):
        recording = {'record': 'record-from-answer-dual',
                     'recording_status_callback': walk.ctx.recording_callback_url(),
                     'recording_status_callback_event': 'completed'}
    dial = walk.response.dial(timeout=timeout, method='POST',
                              action=walk.ctx.url('dial', state=state_id, **url_params),
                              **recording)
    for user_id in user_ids:
        dial.client(walk.ctx.client_identity(user_id),
                    status_callback=walk.ctx.client_status_callback_url(user_id),
                    status_callback_event=CLIENT_EVENTS)
    walk.user_ids.extend(user_ids)
    walk.note(state_id, 'ringing')


def _queue_or_busy(walk, state_id, state, queue_name):
    queue = _queue_settings(state)
    if queue and walk.ctx.queue_size(queue_name) < _setting(queue, 'max_calls'):
        walk.note(state_id, 'queued')
        walk.response.enqueue(queue_name, method='POST', wait_url_method='POST',
                              wait_url=walk.ctx.url('queue_wait', state=state_id),
                              action=walk.ctx.url('queue_result', state=state_id))
    else:
        walk.follow(state_id, 'busy')


RENDERERS = {
    'announce': _render_announce,
    'ivr': _render_ivr,
    'transfer_user': _render_transfer_user,
    'transfer_group': _render_transfer_group,
    'voicemail': _render_voicemail,
}


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
    elif digits in IVR_KEYS and _connections(state).get(digits):
        walk.follow(state_id, digits)
    else:
        _ = ctx.translate
        walk.note(state_id, 'invalid_key')
        walk.response.say(_('Sorry, that is not a valid option.'))
        if invalid < MAX_MENU_REPLAYS:
            _render_ivr(walk, state_id, state, invalid + 1)
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
        walk.note(state_id, 'answered')
        walk.end('completed')
    elif started is not None:
        _ring_next_member(walk, state_id, state, tried, started)
    elif dial_call_status == 'busy':
        walk.follow(state_id, 'busy')
    else:  # no-answer, failed, canceled
        walk.follow(state_id, 'timeout')
    return walk.step()


def _ring_next_member(walk, state_id, state, tried, started):
    remaining = _setting(state, 'ring_timeout') - (walk.ctx.now() - started)
    candidates = (user_id for user_id in walk.ctx.group_members(state.get('group_id'))
                  if user_id not in tried)
    # Statuses are asked lazily: the first free member is enough.
    next_member = next((user_id for user_id in candidates
                        if walk.ctx.user_status(user_id) == 'available'), None)
    if next_member is None or remaining < MIN_RING_TIME:
        walk.follow(state_id, 'timeout')
    else:
        _ring_member(walk, state_id, state, next_member, tried, started)


def on_record(definition, state_id, recording_duration, ctx):
    """Answer the Record action of a voicemail state."""
    walk = _Walk(definition, ctx)
    if not int(recording_duration or 0):
        walk.follow(state_id, 'timeout')
    else:
        _ = ctx.translate
        walk.note(state_id, 'voicemail')
        walk.response.say(_('Thank you, your message has been recorded. Goodbye.'))
        walk.end('voicemail')
    return walk.step()


def queue_wait(definition, state_id, ctx):
    """Answer the waitUrl of a queue: notification, hold music, then leave the queue.

    Twilio would fetch the waitUrl again when its TwiML ends; <Leave/> stops that once the music
    has played ``music_loops`` times, and the Enqueue action then raises ``timeout``.
    """
    walk = _Walk(definition, ctx)
    queue = _queue_settings(walk.state(state_id)) or {}
    walk.play(walk.response, queue.get('notify'))
    walk.play(walk.response, queue.get('music'), loop=_setting(queue, 'music_loops'))
    walk.response.leave()
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
        walk.note(state_id, 'bridged' if outcome == 'completed' else 'hangup')
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
    walk.note(state_id, 'dequeued')
    _dial(walk, state_id, state, [user_id], _setting(state, 'ring_timeout'))
    return walk.step()


def handle(action, definition, params, ctx):
    """Answer the action route ``/telephony/twilio/<action>``.

    ``params``: the route's query string (built by the engine through ``ctx.url``) merged with
    Twilio's POST form. Raises FlowError when they do not make sense.
    """
    state_id = params.get('state')
    if not state_id:
        raise FlowError('The webhook has no state.')
    try:
        if action == 'gather':
            return on_gather(definition, state_id, params.get('Digits'), ctx,
                             invalid=int(params.get('invalid') or 0))
        if action == 'dial':
            started = params.get('started')
            tried = tuple(int(user_id) for user_id in params.get('tried', '').split(',') if user_id)
            return on_dial(definition, state_id, params.get('DialCallStatus'), ctx, tried=tried,
                           started=int(started) if started else None)
        if action == 'record':
            return on_record(definition, state_id, params.get('RecordingDuration'), ctx)
        if action == 'queue_wait':
            return queue_wait(definition, state_id, ctx)
        if action == 'queue_result':
            return on_queue_result(definition, state_id, params.get('QueueResult'), ctx)
        if action == 'connect' and params.get('user'):
            return connect_from_queue(definition, state_id, int(params['user']), ctx)
        if action == 'event' and params.get('event'):
            return on_event(definition, state_id, params['event'], ctx)
    except ValueError as error:
        raise FlowError('Malformed webhook parameters: %s' % error) from error
    raise FlowError('Unknown webhook action %r.' % action)


def apology(definition=None, ctx=None):
    """The Step answered when a webhook fails: an apology, then the flow's first voicemail
    state (in walk order) when there is one and a context to build it, else a polite hangup
    (outcome 'missed').

    Never raises: it is the last answer the caller gets.
    """
    _ = ctx.translate if ctx else _identity
    text = _('We are sorry, something went wrong.')
    try:
        loaded = load_definition(definition) if definition else {}
        voicemail = next((state_id for state_id in walk_order(loaded)
                          if _states(loaded)[state_id].get('type') == 'voicemail'), None)
        if voicemail and ctx:
            walk = _Walk(loaded, ctx)
            walk.response.say(text)
            walk.enter(voicemail)
            return walk.step()
    except Exception:  # noqa: BLE001 -- the fault may be in ctx itself; fall back to hanging up
        _logger.exception('Could not offer voicemail after a failed webhook')
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return Step(twiml=str(response), outcome='missed')


def apology_twiml(definition=None, ctx=None):
    """The TwiML of :func:`apology`."""
    return apology(definition, ctx).twiml


def reject_twiml(reason='rejected'):
    """<Reject/> a call before any flow runs (blocked caller...): reason 'rejected' or 'busy'."""
    response = VoiceResponse()
    response.reject(reason='busy' if reason == 'busy' else 'rejected')
    return str(response)
