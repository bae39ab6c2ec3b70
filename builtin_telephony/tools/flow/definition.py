"""The vocabulary of a call flow (docs/contracts.md, "Call-flow definition"): state types, their
events, settings, defaults and ranges, and how to read a definition. Plain Python, no Odoo.

This is the one schema of a flow: validation, description, the runtime and the visual builder
read it from here.

A flow is a set of **states** keyed by id, plus a ``start`` naming the first one. Each state has a
``type`` and connections in ``next``: a mapping *event → state id*. The events a type can raise:

================  ==========================================================================
announce          ``next`` once the message has played
ivr               the key pressed (``0``–``9``, ``*``) or ``timeout`` (no key within 5 s, or
                  an invalid key once the menu was replayed 3 times)
transfer_user,    ``timeout`` (nobody answered), ``unavailable`` (offline), ``busy`` (busy and no
transfer_group    room in the queue, or the line was busy)
voicemail         ``timeout`` (the caller left no message)
business_hours    ``open`` or ``closed``: the working hours of a ``resource.calendar`` (in its
                  own time zone) at the moment of the call, its public holidays (leaves without
                  a resource) closed
================  ==========================================================================

Optional settings beyond the source documents: a transfer state's queue may announce the
caller's position and estimated wait between the hold music's loops (``announce_position``)
and offer a call-back (``callback``: ``{"enabled": true, "key": "1"}``: the caller presses the
key, leaves the queue and a call-back request is left for the state's people); a voicemail may
be transcribed (``transcribe``) and e-mailed (``email_to``: ``"owner"``, ``"group"`` or an
address).

An event with no connection ends the call politely. Valid flows have no cycles, so every walk
ends.

User-facing labels take the translation function as ``_`` (the Odoo model passes
``self.env._``).
"""
import json
from collections import deque

IVR_KEYS = ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*')
EVENTS = {
    'announce': ('next',),
    'ivr': IVR_KEYS + ('timeout',),
    'transfer_user': ('timeout', 'unavailable', 'busy'),
    'transfer_group': ('timeout', 'unavailable', 'busy'),
    'voicemail': ('timeout',),
    'business_hours': ('open', 'closed'),
}
STATE_TYPES = tuple(EVENTS)
TRANSFER_TYPES = ('transfer_user', 'transfer_group')
# Events by which a call leaves a transfer state without being answered.
TRANSFER_ENDS = ('busy', 'timeout', 'unavailable')
MAX_INCOMING = 10
MAX_IVR_KEYS = len(IVR_KEYS)
IVR_TIMEOUT = 5          # seconds of silence after the menu (F1)
MAX_MENU_REPLAYS = 3     # the menu is played again at most this many times after invalid keys
CALLBACK_KEYS = IVR_KEYS  # the key a queued caller presses to be called back
# Voicemail ``email_to``: these words, or an e-mail address.
EMAIL_TO_OWNER, EMAIL_TO_GROUP = 'owner', 'group'
# Twilio's <Dial> rings for at least 5 s; less than that left of a group's ring timeout is spent.
MIN_RING_TIME = 5
RING_STRATEGIES = ('parallel', 'sequential')
# Settings missing from a definition take these values, in validation, description and runtime.
DEFAULTS = {
    'ring_timeout': 30,
    'user_timeout': 15,
    'ring_strategy': 'parallel',
    'max_calls': 5,
    'music_loops': 3,
    'timeout': 5,         # voicemail: seconds of silence that end the message
    'max_length': 120,    # voicemail: longest message, in seconds
    'callback_key': '1',  # queue: the key that asks for a call-back
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


def identity(text):
    return text


class FlowError(Exception):
    """The definition or the webhook parameters do not allow a next step (answer the apology)."""


# ---------------------------------------------------------------------------------------------
# Reading a definition
# ---------------------------------------------------------------------------------------------

def load_definition(definition):
    """Return the definition as a dict, parsing it when it is a JSON string."""
    if isinstance(definition, (str, bytes)):
        try:
            return json.loads(definition)
        except RecursionError:
            # Deeply nested JSON: a problem to report, never a crash of the request.
            raise ValueError("nested too deeply") from None
    return definition


def states_of(definition):
    """The states that are objects, by id (a malformed definition gives what can be read)."""
    states = definition.get('states') if isinstance(definition, dict) else None
    if not isinstance(states, dict):
        return {}
    return {state_id: state for state_id, state in states.items() if isinstance(state, dict)}


def connections(state):
    connections = state.get('next')
    return connections if isinstance(connections, dict) else {}


def ordered_connections(state):
    """``(event, target)`` pairs in the order of the state type's events (keys 0-9, *, then
    timeout…), whatever the order of the JSON: a draft and its published copy read the same."""
    rank = {event: index for index, event in enumerate(EVENTS.get(state.get('type'), ()))}
    return sorted(connections(state).items(), key=lambda item: rank.get(item[0], len(rank)))


def is_state(state_id, states):
    return isinstance(state_id, str) and state_id in states


def state_name(state_id, state):
    return str(state.get('name') or state_id)


def setting(settings, key):
    value = settings.get(key)
    return DEFAULTS[key] if value is None else value


def queue_settings(state):
    """The queue settings of a transfer state when its queue is on, else None."""
    queue = state.get('queue')
    return queue if isinstance(queue, dict) and queue.get('enabled') else None


def callback_key(queue):
    """The key of a queue's call-back offer when it is on, else None."""
    callback = queue.get('callback') if isinstance(queue, dict) else None
    if not isinstance(callback, dict) or not callback.get('enabled'):
        return None
    return str(callback.get('key') or DEFAULTS['callback_key'])


def walk_order(definition):
    """State ids in a stable order: the start, then breadth-first, then the unreachable ones."""
    states = states_of(definition)
    start = definition.get('start') if isinstance(definition, dict) else None
    order, queue = [], deque([start] if is_state(start, states) else [])
    while queue:
        state_id = queue.popleft()
        if state_id in order:
            continue
        order.append(state_id)
        queue.extend(target for _event, target in ordered_connections(states[state_id])
                     if is_state(target, states) and target not in order)
    return order + [state_id for state_id in states if state_id not in order]


def event_label(event, _):
    labels = {'next': _('next'), 'timeout': _('timeout'), 'busy': _('busy'),
              'unavailable': _('unavailable'), 'open': _('open'), 'closed': _('closed')}
    if event in labels:
        return labels[event]
    if event in IVR_KEYS:
        return _('key %(key)s') % {'key': event}
    return '"%s"' % event


def allowed_events_label(state_type, _):
    if state_type == 'ivr':
        return _('keys 0 to 9 and *, timeout')
    return ', '.join(event_label(event, _) for event in EVENTS[state_type])


def type_label(state_type, _):
    labels = {
        'announce': _('Announce'),
        'ivr': _('IVR menu'),
        'transfer_user': _('Transfer to user'),
        'transfer_group': _('Transfer to group'),
        'voicemail': _('Voicemail'),
        'business_hours': _('Business hours'),
    }
    return labels.get(state_type, str(state_type))


# ---------------------------------------------------------------------------------------------
# The settings of each state type, as the visual builder shows them
# ---------------------------------------------------------------------------------------------

# The <Say> languages offered for text messages, and per language the voices that speak it
# (Twilio's text-to-speech documentation: a voice asked for a language it does not speak fails
# the call). Without a voice, the engine picks one that speaks the language (tools/speech.py).
SAY_VOICES = {
    'en-US': ('man', 'woman', 'Polly.Joanna', 'Polly.Salli', 'Polly.Matthew'),
    'en-GB': ('man', 'woman', 'Polly.Amy'),
    'es-ES': ('Polly.Lucia', 'Polly.Conchita', 'Polly.Enrique'),
    'es-MX': ('Polly.Mia',),
    'es-US': ('Polly.Lupe', 'Polly.Penelope', 'Polly.Miguel'),
    'cmn-CN': ('Polly.Zhiyu',),
    'fr': ('man', 'woman'),
    'de': ('man', 'woman'),
}
ICONS = {
    'announce': 'fa-bullhorn',
    'ivr': 'fa-th',
    'transfer_user': 'fa-user',
    'transfer_group': 'fa-users',
    'voicemail': 'fa-microphone',
    'business_hours': 'fa-clock-o',
}
# What a state dropped on the canvas starts with: the builder then shows what is missing.
NEW_STATES = {
    'announce': {'message': {'kind': 'text', 'text': ''}},
    'ivr': {'message': {'kind': 'text', 'text': ''}},
    'transfer_user': {'ring_timeout': DEFAULTS['ring_timeout'], 'record': False,
                      'queue': {'enabled': False}},
    'transfer_group': {'ring_strategy': DEFAULTS['ring_strategy'],
                       'ring_timeout': DEFAULTS['ring_timeout'],
                       'user_timeout': DEFAULTS['user_timeout'], 'record': False,
                       'queue': {'enabled': False}},
    'voicemail': {'message': {'kind': 'text', 'text': ''}, 'timeout': DEFAULTS['timeout'],
                  'max_length': DEFAULTS['max_length']},
    'business_hours': {},
}
QUEUE_DEFAULTS = {'enabled': True, 'max_calls': DEFAULTS['max_calls'],
                  'music_loops': DEFAULTS['music_loops']}


def _integer(key, label):
    low, high = RANGES[key]
    return {'key': key, 'kind': 'integer', 'label': label, 'min': low, 'max': high,
            'default': DEFAULTS[key]}


def _message(key, label, audio_only=False, optional=False):
    return {'key': key, 'kind': 'message', 'label': label, 'audio_only': audio_only,
            'optional': optional}


def _transfer_settings(_):
    return [
        _integer('ring_timeout', _('Ring timeout (seconds)')),
        {'key': 'record', 'kind': 'boolean', 'label': _('Record the call'), 'default': False},
        {'key': 'queue', 'kind': 'section', 'label': _('Queue when busy'), 'toggle': 'enabled',
         'settings': [
             _integer('max_calls', _('Maximum calls in queue')),
             _message('notify', _('Caller notification'), optional=True),
             _message('music', _('Hold music'), audio_only=True),
             _integer('music_loops', _('Times the hold music plays')),
             {'key': 'announce_position', 'kind': 'boolean', 'default': False,
              'label': _('Announce the position in the queue and the estimated wait')},
             {'key': 'callback', 'kind': 'callback', 'label': _('Offer a call-back: press'),
              'keys': list(CALLBACK_KEYS), 'default_key': DEFAULTS['callback_key']},
         ]},
    ]


def state_settings(state_type, _=identity):
    """The settings of a state type, each a dict: ``key``, ``kind`` (``integer`` with ``min``,
    ``max``, ``default``; ``boolean``; ``selection`` with ``options``; ``message`` with
    ``audio_only`` / ``optional``; ``telephony_user``; ``telephony_group``; ``info`` with
    ``value``; ``section``: nested ``settings`` under ``key``, switched by ``toggle``), a
    ``label``, and ``visible_if`` ({key, value}) when it only matters for one value of another."""
    if state_type == 'announce':
        return [_message('message', _('Message'))]
    if state_type == 'ivr':
        return [_message('message', _('Announcement')),
                {'key': 'ivr_timeout', 'kind': 'info', 'label': _('Timeout after the menu'),
                 'value': _('%(seconds)s seconds') % {'seconds': IVR_TIMEOUT}}]
    if state_type == 'transfer_user':
        return [{'key': 'user_id', 'kind': 'telephony_user', 'label': _('User')}] \
            + _transfer_settings(_)
    if state_type == 'transfer_group':
        transfer = _transfer_settings(_)
        return [
            {'key': 'group_id', 'kind': 'telephony_group', 'label': _('Group')},
            {'key': 'ring_strategy', 'kind': 'selection', 'label': _('Ring type'),
             'default': DEFAULTS['ring_strategy'],
             'options': [['parallel', _('Parallel: all members at once')],
                         ['sequential', _('Sequential: one member at a time')]]},
            transfer[0],
            dict(_integer('user_timeout', _('Ringing time per member (seconds)')),
                 visible_if={'key': 'ring_strategy', 'value': 'sequential'}),
        ] + transfer[1:]
    if state_type == 'voicemail':
        return [_message('message', _('Prompt')),
                _integer('timeout', _('Silence timeout (seconds)')),
                _integer('max_length', _('Maximum message length (seconds)')),
                {'key': 'transcribe', 'kind': 'boolean', 'default': False,
                 'label': _('Transcribe the message')},
                {'key': 'email_to', 'kind': 'email_to', 'label': _('E-mail the message to'),
                 'options': [['', _('Nobody')],
                             [EMAIL_TO_OWNER, _('The user the call was for')],
                             [EMAIL_TO_GROUP, _('The members of the group the call was for')],
                             ['address', _('An address')]]}]
    if state_type == 'business_hours':
        return [{'key': 'calendar_id', 'kind': 'calendar', 'label': _('Working hours')}]
    return []


def builder_schema(_=identity):
    """The whole vocabulary for the visual builder, JSON-able (XML-RPC and JSON-RPC alike)."""
    return {
        'types': [{
            'type': state_type,
            'label': type_label(state_type, _),
            'icon': ICONS.get(state_type, 'fa-circle'),
            'events': [{'event': event, 'label': event} for event in events],
            'settings': state_settings(state_type, _),
            'new_state': NEW_STATES.get(state_type, {}),
        } for state_type, events in EVENTS.items()],
        'max_incoming': MAX_INCOMING,
        'max_ivr_keys': MAX_IVR_KEYS,
        'queue_defaults': QUEUE_DEFAULTS,
        'languages': list(SAY_VOICES),
        'voices': {language: list(voices) for language, voices in SAY_VOICES.items()},
        'labels': {'start': _('Start')},
        'texts': {
            'no_target': _('Drop the arrow on a state.'),
            'bad_event': _('This state has no %(event)s output.'),
            'self_loop': _('A state cannot connect to itself: that would be a loop.'),
            'loop': _('Refused: this connection would close a loop (%(path)s). A call may not '
                      'come back to a state it has passed.'),
            'incoming': _('Refused: %(state)s already has %(max)s incoming connections, the '
                          'most a state accepts.'),
        },
    }
