import base64
import json
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.telephony_flow import dump_definition


class TelephonyFlowTransfer(models.TransientModel):
    """Import or export a call flow's definition as a JSON file (B6).

    Export gives the draft, the version being worked on. Import replaces the draft only: the
    calls keep running the published version until the imported draft is published, which
    checks it like any other draft.
    """
    _name = 'telephony.flow.transfer'
    _description = "Import or Export a Call Flow"

    flow_id = fields.Many2one('telephony.flow', required=True, ondelete='cascade')
    mode = fields.Selection([('import', "Import"), ('export', "Export")], required=True)
    definition = fields.Text(
        "JSON", help="The call flow definition. To import, paste it here or upload a file.")
    file = fields.Binary("JSON file", attachment=False)
    filename = fields.Char()
    problems = fields.Text(compute='_compute_problems',
                           help="Problems to solve before the imported draft can be published.")

    @api.model
    def _open(self, flow, mode):
        values = {'flow_id': flow.id, 'mode': mode}
        if mode == 'export':
            text = dump_definition(json.loads(flow.definition or '{}'))
            values.update(
                definition=text,
                file=base64.b64encode(text.encode()),
                filename='%s.json' % (re.sub(r'[^\w.-]+', '_', flow.name).strip('_') or 'call_flow'),
            )
        wizard = self.create(values)
        return {
            'type': 'ir.actions.act_window',
            'name': _("Export call flow") if mode == 'export' else _("Import call flow"),
            'res_model': self._name,
            'res_id': wizard.id,
            'view_mode': 'form',
            'target': 'new',
        }

    @api.depends('definition', 'file', 'mode')
    def _compute_problems(self):
        for wizard in self:
            text = wizard._read_text() if wizard.mode == 'import' else None
            wizard.problems = '\n'.join(wizard.flow_id.validate_definition(text)) if text else False

    @api.onchange('file')
    def _onchange_file(self):
        if self.mode == 'import' and self.file:
            self.definition = self._read_text()

    def _read_text(self):
        if self.file and not self.definition:
            try:
                return base64.b64decode(self.file).decode('utf-8-sig')
            except (ValueError, UnicodeDecodeError):
                return None
        return self.definition

    def action_import(self):
        """Replace the flow's draft with the JSON given."""
        self.ensure_one()
        text = self._read_text()
        if not text:
            raise UserError(_("Upload a JSON file, or paste a call flow definition, to import."))
        try:
            definition = json.loads(text)
        except ValueError as error:
            raise UserError(_(
                "This is not a call flow definition: it is not valid JSON (%(error)s). Export a "
                "call flow to see the expected format.", error=error)) from error
        if not isinstance(definition, dict) or not isinstance(definition.get('states'), dict):
            raise UserError(_(
                'This is not a call flow definition: it needs a "start" and "states". Export a '
                "call flow to see the expected format."))
        self.flow_id.definition = dump_definition(definition)
        self.flow_id.message_post(body=_("Draft replaced by an imported definition."))
        return {'type': 'ir.actions.act_window_close'}
