"""Twilio's REST API mocked from Twilio's own OpenAPI description, for the gateway's contract tests.

Prism (``node_modules/.bin/prism``) serves a patched copy of the ``twilio_api_v2010.json`` spec
shipped in ``@twilio-alpha/mcp``. It checks every request against the spec (path, query, form
body, formats, patterns, enums) and answers with the spec's examples. Requests leave through the
real twilio SDK and its real HTTP client; only Twilio's servers are replaced.

Plain Python, no Odoo: see DEVELOPERS.md, "Twilio contract tests (Prism)".
"""
import atexit
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from twilio.http.http_client import TwilioHttpClient

REPOSITORY = Path(__file__).resolve().parents[2]
PRISM = REPOSITORY / 'node_modules' / '.bin' / 'prism'
TWILIO_SPEC = (REPOSITORY / 'node_modules' / '@twilio-alpha' / 'mcp' / 'twilio-oai' / 'spec'
               / 'json' / 'twilio_api_v2010.json')
PATCHED_SPEC = REPOSITORY / '.cache' / 'prism' / 'twilio_api_v2010.json'
TWILIO_API = 'https://api.twilio.com'
PRISM_STARTUP_TIMEOUT = 120
PRISM_ERROR_TYPE = 'https://stoplight.io/prism/errors#'

# The spec only describes successes; these are Twilio's error answers (its JSON error body, see
# https://www.twilio.com/docs/usage/twilios-response), added to every operation so that a test can
# ask for one with ``PrismHttpClient.force_status`` / ``force_example``. Per status, the first
# example is the default.
TWILIO_ERROR_EXAMPLES = {
    '400': {
        'invalid_url': (21205, "Url is not a valid URL: not-a-url"),
        'number_unavailable': (21422, "PhoneNumber Requested is not available"),
        'address_required': (21631, "Phone Number Requires an Address"),
    },
    '401': {'authenticate': (20003, "Authenticate")},
    '404': {'not_found': (20404, "The requested resource was not found")},
    '429': {'too_many_requests': (20429, "Too Many Requests")},
}

_prism = None  # the Prism process this Python process started, if any
_prism_url = None


class PrismRejection(AssertionError):
    """The request breaks the spec, or the test asked for a status the patched spec does not
    describe. Fails the test; the gateway, which only handles Twilio's errors, never sees it."""


def prism_base_url():
    """The URL of a Prism serving the patched spec: ``$TELEPHONY_PRISM_URL`` if set, else one
    Prism process started on first use, shared by the whole Python process, stopped at exit."""
    global _prism_url
    if _prism_url is None:
        _prism_url = os.environ.get('TELEPHONY_PRISM_URL', '').rstrip('/') or _start_prism()
    return _prism_url


class PrismHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, sending to Prism instead of ``https://api.twilio.com``.

    Set ``force_status`` (and optionally ``force_example``, a key of ``TWILIO_ERROR_EXAMPLES``
    or of the spec's examples) to have the next request answered that way; both reset after it.
    ``sent`` lists the (method, path) of every request, to check which endpoints a call used.
    Prism's own errors (a request breaking the spec) raise ``PrismRejection``.
    """

    def __init__(self, base_url=None, timeout=30):
        super().__init__(timeout=timeout)
        self.base_url = base_url or prism_base_url()
        self.force_status = None
        self.force_example = None
        self.sent = []

    def request(self, method, url, params=None, data=None, headers=None, **kwargs):
        if not url.startswith(TWILIO_API + '/'):
            raise PrismRejection(f"{method} {url} does not go to Twilio's REST API")
        path = url[len(TWILIO_API):]
        self.sent.append((method, path))
        url = self.base_url + path
        preferences = []
        if self.force_status:
            preferences.append(f'code={self.force_status}')
        if self.force_example:
            preferences.append(f'example={self.force_example}')
        if preferences:
            headers = {**(headers or {}), 'Prefer': ', '.join(preferences)}
        self.force_status = self.force_example = None
        response = super().request(method, url, params, data, headers, **kwargs)
        _check_not_rejected(method, url, response)
        return response


def _check_not_rejected(method, url, response):
    # A request breaking the spec is answered with the operation's 400 (one of Twilio's errors
    # once patched) plus the violations in this header; Prism's other complaints (unknown path,
    # status not in the spec) come as its own problem documents. The header also reports the
    # spec's examples breaking the spec's own schemas (relative "uri"s): not our concern.
    violations = [violation['message']
                  for violation in json.loads(response.headers.get('sl-violations', '[]'))
                  if violation['location'][0] == 'request' and violation['severity'] == 'Error']
    if 'problem+json' in response.headers.get('content-type', ''):
        problem = json.loads(response.text)
        if problem.get('type', '').startswith(PRISM_ERROR_TYPE):
            violations.append(problem.get('detail') or problem['title'])
            violations += [item['message'] for item in problem.get('validation', [])]
    if violations:
        raise PrismRejection(
            f"Prism rejected {method} {url} ({response.status_code}): {'; '.join(violations)}")


def write_patched_spec():
    """Write the patched copy of Twilio's spec to ``PATCHED_SPEC`` (git-ignored) and return its
    path. Rewritten on every start so that it follows the installed npm package."""
    spec = json.loads(TWILIO_SPEC.read_text())
    for operations in spec['paths'].values():
        for operation in operations.values():
            if not isinstance(operation, dict) or 'responses' not in operation:
                continue  # path-level keys: servers, parameters, descriptions...
            _explode_form_arrays(operation)
            for status, examples in TWILIO_ERROR_EXAMPLES.items():
                operation['responses'].setdefault(status, _error_response(status, examples))
    PATCHED_SPEC.parent.mkdir(parents=True, exist_ok=True)
    # Written aside then renamed: another test process may be starting its Prism on the file.
    with tempfile.NamedTemporaryFile('w', dir=PATCHED_SPEC.parent, delete=False) as patched:
        json.dump(spec, patched)
    os.replace(patched.name, PATCHED_SPEC)
    return PATCHED_SPEC


def _explode_form_arrays(operation):
    """Prism does not turn repeated form keys (``StatusCallbackEvent=a&StatusCallbackEvent=b``,
    as the SDK sends lists) into arrays unless told so (stoplightio/prism#2473)."""
    content = operation.get('requestBody', {}).get('content', {})
    form = content.get('application/x-www-form-urlencoded')
    if not form:
        return
    arrays = [name for name, schema in form['schema'].get('properties', {}).items()
              if schema.get('type') == 'array']
    if arrays:
        form.setdefault('encoding', {}).update(
            {name: {'style': 'form', 'explode': True} for name in arrays})


def _error_response(status, examples):
    return {
        'description': "Twilio's error answer",
        'content': {'application/json': {
            'schema': {
                'type': 'object',
                'properties': {
                    'code': {'type': 'integer'},
                    'message': {'type': 'string'},
                    'more_info': {'type': 'string'},
                    'status': {'type': 'integer'},
                },
            },
            'examples': {name: {'value': {
                'code': code,
                'message': message,
                'more_info': f'https://www.twilio.com/docs/errors/{code}',
                'status': int(status),
            }} for name, (code, message) in examples.items()},
        }},
    }


def _start_prism():
    if not (PRISM.exists() and TWILIO_SPEC.exists()):
        raise RuntimeError(
            f"Prism or Twilio's OpenAPI spec is missing under {REPOSITORY / 'node_modules'}: "
            f"run `npm ci` in {REPOSITORY}.")
    spec = write_patched_spec()
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    global _prism
    # Prism logs every operation of the spec at start and every request: keep that out of the
    # test output, but at hand if it fails to start.
    log = tempfile.TemporaryFile()
    _prism = subprocess.Popen(
        [str(PRISM), 'mock', '--host', '127.0.0.1', '--port', str(port), str(spec)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    atexit.register(_stop_prism)
    url = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + PRISM_STARTUP_TIMEOUT
    while not _answers(url):
        if _prism.poll() is not None or time.monotonic() > deadline:
            _stop_prism()
            log.seek(0)
            raise RuntimeError(f"Prism did not start on {url}:\n{log.read()[-4000:].decode()}")
        time.sleep(0.2)
    return url


def _answers(url):
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # any HTTP answer, even Prism's 404 for "/", means it is serving
    except OSError:
        return False
    return True


def _stop_prism():
    if _prism.poll() is None:
        _prism.terminate()
        try:
            _prism.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _prism.kill()
            _prism.wait()
