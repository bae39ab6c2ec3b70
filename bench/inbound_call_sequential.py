"""The inbound-call benchmark's webhooks one at a time, in one process, through Odoo's WSGI
application (no HTTP server, no concurrency): what each request costs by itself.

Each of ``--calls`` calls (after 20 of warm-up) is the four signed webhooks of
``bench_inbound_call.py``, followed by one request to the reference route; prints the median
of each. ``--profile FILE --profile-path PART`` writes a cProfile of the requests whose path
contains ``PART`` (e.g. ``status``, ``flow/gather``).

The database needs the add-on and ``bench/addons/bench_reference``: the one
``bench_inbound_call.py --keep-db`` leaves (``<BENCH_DB>_inbound_call``, the default here) does;
its account, number and flow are set up as that script sets them up when missing. Not run by
``make bench`` (not a ``bench_*.py``): a diagnostic, not a goal.
"""
import argparse
import cProfile
import json
import os
import statistics
import time
from urllib.parse import urlsplit

import bench_inbound_call as inbound
from benchlib import odoo_rc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--db', default=os.environ.get('BENCH_DB', 'telephony_bench') + '_inbound_call')
    parser.add_argument('--calls', type=int, default=200)
    parser.add_argument('--profile', help='write a cProfile of the requests of --profile-path here')
    parser.add_argument('--profile-path', default='status')
    args = parser.parse_args()

    import odoo
    from odoo.tools import config
    config.parse_config(['-c', odoo_rc(), '-d', args.db, '--log-level=warn'])
    config['addons_path'] += f',{inbound.BENCH_ADDONS}'
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if not env['telephony.number'].search([('phone_number', '=', inbound.OUR_NUMBER)]):
            exec(inbound.SETUP % {'base_url': 'http://localhost', 'number': inbound.OUR_NUMBER,  # noqa: S102
                                  'flow': json.dumps(inbound.FLOW)}, {'env': env})
        account = env['telephony.account']._get_for_company(env.company)
        account = {key: account[key] for key in (
            'twilio_account_sid', 'twilio_auth_token', 'voice_webhook_url', 'status_webhook_url')}

    from werkzeug.test import Client
    from werkzeug.wrappers import Response
    client = Client(odoo.http.root, Response)
    profiler = cProfile.Profile() if args.profile else None

    class Answer:
        def __init__(self, response):
            self.status_code = response.status_code
            self.content = response.get_data()
            self.text = self.content.decode()

    class SequentialCaller(inbound.Caller):
        def post(self, url, params):
            path = urlsplit(url)._replace(scheme='', netloc='').geturl()
            headers = {'X-Twilio-Signature': self.validator.compute_signature(url, params)}
            profiled = profiler and args.profile_path in path
            if profiled:
                profiler.enable()
            started = time.perf_counter()
            response = client.post(path, data=params, headers=headers)
            elapsed = time.perf_counter() - started
            if profiled:
                profiler.disable()
            return Answer(response), elapsed

    def reference():
        started = time.perf_counter()
        response = client.post('/bench/reference', data={'To': inbound.OUR_NUMBER})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.get_data()[:200]
        return elapsed

    caller = SequentialCaller(1, account, 'http://localhost')
    timings = {name: [] for name in inbound.WEBHOOKS + ('reference',)}
    for index in range(20 + args.calls):
        if index == 20 and profiler:
            profiler = cProfile.Profile()  # the warm-up's requests left out
        durations, errors = caller.place_call()
        assert not errors, 'a webhook answered unexpectedly'
        ref = reference()
        if index >= 20:
            for name, duration in zip(inbound.WEBHOOKS, durations):
                timings[name].append(duration)
            timings['reference'].append(ref)
    if profiler:
        profiler.dump_stats(args.profile)
    print(f'Sequential, {args.calls} calls after 20 of warm-up, medians: ' + ', '.join(
        f'{name} {statistics.median(values) * 1000:.1f} ms' for name, values in timings.items()))


if __name__ == '__main__':
    main()
