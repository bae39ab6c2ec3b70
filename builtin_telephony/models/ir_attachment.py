from odoo import models
from odoo.tools.sql import create_index


class IrAttachment(models.Model):
    _inherit = 'ir.attachment'

    def init(self):
        super().init()
        # Recording retention deletes recordings' attachments by the thousand
        # (telephony.recording._expire). Deleting an attachment checks every foreign key to it;
        # ``original_id`` (added by html_editor) has no index, so each deletion scanned the whole
        # ir_attachment table: 0.44 ms per attachment with 3,000 of them, growing with the table
        # (bench/bench_retention.py). A partial index: only resized images have an original.
        field = self._fields.get('original_id')
        if field and field.store:
            create_index(self.env.cr, 'ir_attachment_original_id_telephony_index', self._table,
                         ['original_id'], where='original_id IS NOT NULL')
