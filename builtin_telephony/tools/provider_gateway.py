"""The interface of a provider gateway: what ``TwilioGateway`` and ``SandboxGateway`` both do.

Plain Python in, plain dicts out; every failure is a ``TelephonyProviderError`` whose message says
what to do next (``telephony.account._provider()`` turns it into a ``UserError``). Models reach a
gateway only through ``telephony.account._provider()``; ``tools/gateways.get_gateway`` builds one.
"""
from abc import ABC, abstractmethod


class ProviderGateway(ABC):
    """One provider account's REST API."""

    # Phone numbers

    @abstractmethod
    def number_types(self, country_code):
        """The number types (``local``/``mobile``/``toll_free``) sold in ``country_code``."""

    @abstractmethod
    def search_numbers(self, country_code, number_type, region=None, contains=None, limit=20):
        """Numbers for sale: dicts with ``phone_number``, ``friendly_name``, ``region``,
        ``locality``, ``iso_country``, ``address_requirements``."""

    @abstractmethod
    def create_address(self, customer_name, street, city, region, postal_code, iso_country):
        """Register a customer's address (some numbers need one); returns its sid."""

    @abstractmethod
    def buy_number(self, phone_number, voice_url, status_callback, friendly_name=None,
                   address_sid=None):
        """Buy ``phone_number`` and point its calls at ``voice_url``; returns the number's
        dict (``sid``, ``phone_number``…)."""

    @abstractmethod
    def find_number(self, phone_number):
        """The dict of ``phone_number`` if the account owns it, else None: what reconciles a
        purchase whose answer never came."""

    @abstractmethod
    def update_number(self, sid, voice_url=None, status_callback=None, friendly_name=None):
        """Change a bought number's settings; returns its dict (the numbers follow the
        account's public URL when it changes)."""

    @abstractmethod
    def release_number(self, sid):
        """Give a bought number back; releasing it twice is not an error."""

    # Custom outgoing caller IDs

    @abstractmethod
    def start_caller_id_validation(self, phone_number, friendly_name, status_callback):
        """Have the provider call ``phone_number`` to verify it: ``{'validation_code',
        'call_sid'}``; the outcome arrives on ``status_callback``."""

    @abstractmethod
    def list_caller_ids(self, phone_number=None):
        """Verified caller IDs, all or those of ``phone_number``: ``[{'sid', 'phone_number'}]``."""

    @abstractmethod
    def delete_caller_id(self, sid):
        """Forget a verified caller ID; twice is not an error."""

    # Queues and live calls

    @abstractmethod
    def queue_sid(self, friendly_name):
        """The sid of the queue named ``friendly_name``, created when missing."""

    @abstractmethod
    def dequeue_member(self, queue_sid, call_sid, url):
        """Send the caller ``call_sid`` waiting in the queue to ``url``: True, or False when
        that caller is not in the queue (any more), so that asking twice dequeues once."""

    @abstractmethod
    def redirect_call(self, call_sid, url):
        """Make a live call continue with the TwiML at ``url``. Not called by the add-on yet:
        it is what takes a caller out of a queue for a call-back request (B3)."""

    # Recordings

    @abstractmethod
    def fetch_recording(self, sid):
        """The audio of a finished recording: ``(bytes, mimetype)``. Downloaded once into Odoo,
        then deleted at the provider (``delete_recording``)."""

    @abstractmethod
    def delete_recording(self, sid):
        """Delete a recording at the provider; deleting it twice is not an error."""

    # Applications

    @abstractmethod
    def create_twiml_app(self, friendly_name, voice_url):
        """A TwiML App whose voice URL answers the softphones' outgoing calls; its sid."""

    @abstractmethod
    def update_twiml_app(self, sid, voice_url):
        """Point the TwiML App ``sid`` at ``voice_url`` (the account's public URL changed);
        returns its sid. Setting the same URL twice is not an error."""
