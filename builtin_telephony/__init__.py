from odoo.tools import SQL

from . import controllers
from . import models
from . import wizard

# Indexes the add-on adds to other modules' tables (models/res_partner.py, models/ir_attachment.py).
FOREIGN_TABLE_INDEXES = ('res_partner_phone_sanitized_telephony_index',
                         'ir_attachment_original_id_telephony_index')


def _uninstall_hook(env):
    """Drop what uninstalling would leave behind: the indexes on other modules' tables."""
    for index in FOREIGN_TABLE_INDEXES:
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))
