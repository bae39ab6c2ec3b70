import os
import subprocess
import sys
import unittest

import odoo
from odoo.sql_db import db_connect
from odoo.tests import BaseCase, tagged

UNINSTALL = """
import sys
import odoo
from odoo.modules.registry import Registry
odoo.tools.config.parse_config(sys.argv[1:])
registry = Registry.new(odoo.tools.config['db_name'])
with registry.cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    env['ir.module.module'].search([('name', '=', 'builtin_telephony')]).button_immediate_uninstall()
"""


@tagged('post_install', '-at_install')
class TestUninstall(BaseCase):
    """Uninstalling the add-on leaves no table, model, menu or group of it behind.

    Runs on the copy of the freshly installed database that scripts/test.sh makes
    (``TELEPHONY_UNINSTALL_DB``): a module cannot be uninstalled inside a test transaction.
    """

    def test_uninstall_leaves_nothing_behind(self):
        database = os.environ.get('TELEPHONY_UNINSTALL_DB')
        if not database:
            raise unittest.SkipTest("run through `make test`, which prepares the database to uninstall")
        config = odoo.tools.config
        args = ['-d', database, '--db_host', config['db_host'] or '', '--db_port', str(config['db_port'] or ''),
                '--db_user', config['db_user'] or '', '--addons-path', config['addons_path'],
                '--data-dir', config['data_dir'], '--log-level', 'warn']
        subprocess.run([sys.executable, '-c', UNINSTALL, *args], check=True, timeout=600)

        with db_connect(database).cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = 'builtin_telephony'")
            self.assertEqual(cr.fetchone()[0], 'uninstalled')
            cr.execute("SELECT model FROM ir_model WHERE model LIKE 'telephony.%%'")
            self.assertEqual(cr.fetchall(), [])
            cr.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'telephony\\_%%'")
            self.assertEqual(cr.fetchall(), [])
            cr.execute("SELECT count(*) FROM ir_model_data WHERE module = 'builtin_telephony'")
            self.assertEqual(cr.fetchone()[0], 0)
            # Nor the indexes it added to other modules' tables.
            cr.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%telephony%%'")
            self.assertEqual(cr.fetchall(), [])
        odoo.sql_db.close_db(database)
