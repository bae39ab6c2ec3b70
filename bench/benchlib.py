"""What the benchmark scripts share: Odoo loaded on a database, an Odoo server with
``--workers=2``, client processes started at one moment, timing helpers."""
import argparse
import configparser
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_odoo(description, add_arguments=None):
    """Parse ``--db`` (and the usual Odoo config) and return ``(args, registry)``.

    :param add_arguments: ``add_arguments(parser)`` adds the script's own options
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--db', default=os.environ.get('BENCH_DB', 'telephony_bench'))
    parser.add_argument('--repeat', type=int, default=5, help="runs of each measure; medians are reported")
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args()
    import odoo
    from odoo.tools import config
    config.parse_config(['-c', odoo_rc(), '-d', args.db, '--log-level=warn'])
    # 16 threads each hold a cursor, plus the set-up's.
    config['db_maxconn'] = 64
    registry = odoo.modules.registry.Registry(args.db)
    return args, registry


def drop_company(env, company_id):
    """Remove a company a benchmark created, and its partner (its rows must be gone first)."""
    company = env['res.company'].browse(company_id)
    partner = company.partner_id
    company.unlink()
    partner.unlink()


def median_seconds(func, repeat):
    """Median wall time of ``repeat`` calls of ``func()``, and its last result."""
    timings, result = [], None
    for _run in range(repeat):
        start = time.perf_counter()
        result = func()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), result


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _client(barrier, results, work, index):
    try:
        barrier.wait()
        results.put((index, work(index), None))
    except Exception as error:  # noqa: BLE001 -- reported by run_processes
        results.put((index, None, repr(error)))


def run_processes(count, work):
    """``work(index)`` in ``count`` forked processes released at one moment.

    Processes, not threads: the clients must not share one interpreter lock. Forking copies
    the loaded Odoo registry, so Odoo's pooled connections are closed first; every client then
    opens its own.

    :return: ``(wall seconds from the release to the last client's end, [results by index])``
    """
    import odoo.sql_db
    odoo.sql_db.close_all()
    context = multiprocessing.get_context('fork')
    barrier, results = context.Barrier(count + 1), context.Queue()
    processes = [context.Process(target=_client, args=(barrier, results, work, index))
                 for index in range(count)]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    outcomes = [results.get() for _process in processes]
    elapsed = time.perf_counter() - start
    for process in processes:
        process.join()
    failures = [error for _index, _result, error in outcomes if error]
    if failures:
        raise RuntimeError(f"{len(failures)} client(s) failed, first: {failures[0]}")
    return elapsed, [result for _index, result, _error in sorted(outcomes, key=lambda outcome: outcome[0])]


class OdooServer:
    """An Odoo server with ``--workers=2`` serving one database on a free port, as in production;
    ``addons``: extra addons directories (bench/addons, the reference routes); ``load``: modules
    of them whose routes are served without being installed (``--load``).

    Usage: ``with OdooServer(db) as server: requests.post(server.url + '/web/...')``.

    It runs this file as its script (see the end): with ``--workers``, Odoo also spawns a
    long-polling process as ``<argv[0]> gevent``, which must be a script path. No benchmark uses
    the bus, and that process must not compete with the workers for the CPU being measured, so
    here it idles until the server stops it.
    """

    def __init__(self, db, port=None, workers=2, addons=(), load=(), bus=False):
        self.db, self.workers = db, workers
        # Server-wide modules (``--load``): their routes are served without installing them.
        self.load = list(load)
        self.port = port or free_port()
        # bus=True: the real long-polling (websocket) process, on its own port, for the
        # benchmarks that measure what reaches a browser (bench_screen_pop.py).
        self.bus = bus
        self.gevent_port = free_port() if bus else None
        self.url = f'http://127.0.0.1:{self.port}'
        self.log = f'/tmp/{db}-{self.port}.log'
        self.addons = [str(path) for path in addons]
        self.process = None

    def __enter__(self):
        import requests
        options = ['-c', odoo_rc(), '-d', self.db, f'--db-filter=^{self.db}$',
                   f'--http-port={self.port}', f'--workers={self.workers}', '--max-cron-threads=0',
                   '--log-level=warn', '--limit-time-real=600']
        if self.addons:
            options.append('--addons-path=' + ','.join([configured_addons_path()] + self.addons))
        if self.load:
            options.append('--load=' + ','.join(['base', 'web'] + self.load))
        if self.bus:
            options.append(f'--gevent-port={self.gevent_port}')
        with open(self.log, 'w') as log:
            # TZ: what odoo-bin sets before anything reads the time.
            self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__)] + options,
                                            env=dict(os.environ, TZ='UTC',
                                                     BENCH_BUS='1' if self.bus else ''),
                                            stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.url + '/web/health', timeout=2).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"Odoo did not start on port {self.port}; see {self.log}")

    def __exit__(self, *exc_info):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


def odoo_rc():
    """The Odoo configuration file of this checkout (``make setup`` writes it)."""
    return os.environ.get('ODOO_RC', os.path.join(ROOT, '.cache', 'odoo.conf'))


def configured_addons_path():
    """The ``addons_path`` of that configuration."""
    config = configparser.ConfigParser()
    config.read(odoo_rc())
    return config['options']['addons_path'].replace(' ', '')


if __name__ == '__main__':
    # OdooServer's process (and, with ``gevent``, its idle long-polling one).
    if sys.argv[1:2] == ['gevent'] and not os.environ.get('BENCH_BUS'):
        while True:
            time.sleep(3600)
    import odoo.cli
    odoo.cli.main()
