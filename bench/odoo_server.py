"""odoo-bin for the benchmarks' own servers.

With ``--workers``, Odoo also spawns a long-polling process as ``<argv[0]> gevent``. No
benchmark uses the bus, and that process must not compete with the workers for the CPU being
measured, so here it just idles until the server stops it.
"""
import sys
import time

if __name__ == '__main__':
    if sys.argv[1:2] == ['gevent']:
        while True:
            time.sleep(3600)
    import odoo.cli
    odoo.cli.main()
