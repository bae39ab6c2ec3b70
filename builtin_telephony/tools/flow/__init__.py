"""The call-flow engine: plain Python over the call-flow JSON (docs/contracts.md, "Call-flow
definition"), no Odoo, no database.

* :mod:`.definition` — the vocabulary: state types, events, settings, defaults, ranges (the one
  schema, read by the visual builder too), and how to read a definition;
* :mod:`.validation` — every problem of a definition, for ``telephony.flow.action_publish``;
* :mod:`.description` — readable lines of a definition (draft/published comparison);
* :mod:`.runtime` — the TwiML decisions of each webhook of a call.
"""
from . import definition, description, runtime, validation
from .definition import FlowError, load_definition

__all__ = ['FlowError', 'definition', 'description', 'load_definition', 'runtime', 'validation']
