/** @odoo-module **/
import { Component, onMounted, onWillStart, onWillUnmount, reactive, toRaw, useExternalListener, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { debounce } from "@web/core/utils/timing";
import { FlowArrows, FlowCard } from "./flow_canvas";
import { diffDefinitions, FlowModel, START } from "./flow_model";
import { FlowStatePanel } from "./flow_panel";
import { FlowSimulator } from "./flow_simulator";

const MIN_ZOOM = 0.25;
const MAX_ZOOM = 2;
const FIT_MIN_ZOOM = 0.7;

/**
 * The visual call-flow builder (F3, F4): a client action opened by "Create call flow" /
 * "Edit call flow" with `params.flow_id` (or `context.active_id` after a reload).
 *
 * The draft is a `FlowModel` edited in place; each change is checked by the server's
 * `check_builder_definition` (the engine's `validate_definition`, problems attached to their
 * states) and saved by "Save draft"; "Publish" saves and calls `action_publish`.
 */
export class FlowBuilder extends Component {
    static template = "builtin_telephony.FlowBuilder";
    static components = { FlowCard, FlowArrows, FlowStatePanel, FlowSimulator };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.actionService = useService("action");
        this.canvasRef = useRef("canvas");
        this.START = START;
        this.flowId = this.props.action.params?.flow_id || this.props.action.context?.active_id;
        this.ui = useState({
            tab: "draft",
            readonly: false,
            selected: null,
            selectedConnection: null,
            menuFor: null,
            drawing: null,
            refusal: null,
            problems: [],
            problemsByState: {},
            changedStates: [],
            changedConnections: [],
            pathStates: [],
            pathConnections: [],
            simulatorAt: null,
            view: { x: 40, y: 60, zoom: 1 },
            dirty: false,
            saving: false,
            publishProblems: null,
            showProblems: false,
            simulating: false,
            adding: null,
            canUndo: false,
            canRedo: false,
        });
        this.checkLater = debounce(() => {
            this.computeDiff();
            this.check();
        }, 300);
        onWillStart(async () => {
            const [schema, data] = await Promise.all([
                this.orm.call("telephony.flow", "get_builder_schema", []),
                this.orm.call("telephony.flow", "get_builder_data", [[this.flowId]]),
            ]);
            this.schema = schema;
            this.typesByName = Object.fromEntries(schema.types.map((type) => [type.type, type]));
            this.load(data);
        });
        onMounted(() => {
            this.fitView();
            window.performance?.mark?.("telephony_flow_builder_ready");
        });
        onWillUnmount(() => this.checkLater.cancel());
        useExternalListener(window, "pointermove", this.onPointerMove);
        useExternalListener(window, "pointerup", this.onPointerUp);
        useExternalListener(window, "keydown", this.onKeyDown);
        useExternalListener(window, "beforeunload", (event) => {
            if (this.ui.dirty) {
                event.preventDefault();
            }
        });
    }

    /** (Re)load the flow from `get_builder_data`. */
    load(data) {
        this.flow = data;
        this.attachments = Object.fromEntries(data.attachments);
        const draft = new FlowModel(data.definition, this.schema);
        draft.arrangeIfUnplaced();
        draft.onChange = () => this.onModelChange();
        this.ui.draft = draft;
        const published = new FlowModel(data.published_definition, this.schema);
        published.arrangeIfUnplaced();
        this.ui.published = published;
        this.ui.problems = data.problems;
        this.indexProblems();
        this.ui.dirty = false;
        this.ui.canUndo = false;
        this.ui.canRedo = false;
        this.computeDiff();
    }

    /** The draft (reactive for this component). */
    get draft() {
        return this.ui.draft;
    }

    get published() {
        return this.ui.published;
    }

    get model() {
        return this.ui.tab === "draft" ? this.ui.draft : this.ui.published;
    }

    /**
     * The shown model for event handlers: its writes reach the cards and arrows that read it,
     * its reads subscribe nothing (through `this.model`, this component would render again
     * on every move of a drag).
     */
    get edit() {
        return reactive(toRaw(toRaw(this.ui)[this.ui.tab === "draft" ? "draft" : "published"]));
    }

    /** The draft, for edits from event handlers (see `edit`). */
    get editDraft() {
        return reactive(toRaw(toRaw(this.ui).draft));
    }

    get hasPublished() {
        return Boolean(this.flow.published_definition);
    }

    get stateIds() {
        return this.model.stateIds;
    }

    get worldStyle() {
        const { x, y, zoom } = this.ui.view;
        return `transform: translate(${x}px, ${y}px) scale(${zoom});`;
    }

    get zoomPercent() {
        return Math.round(this.ui.view.zoom * 100);
    }

    get problemCount() {
        return this.ui.problems.length;
    }

    get problemCountText() {
        return _t("%s to solve", this.problemCount);
    }

    get changesText() {
        const text = this.ui.tab === "draft" ? _t("Changes not published yet are marked") : _t("Marked: what the draft changes");
        return this.ui.removedCount ? _t("%(text)s (%(count)s removed)", { text, count: this.ui.removedCount }) : text;
    }

    get types() {
        return this.schema.types;
    }

    // ------------------------------------------------------------------------------------
    // Words shown on the cards
    // ------------------------------------------------------------------------------------

    eventLabel(event) {
        const labels = {
            next: _t("next"),
            timeout: _t("timeout"),
            busy: _t("busy"),
            unavailable: _t("unavailable"),
            open: _t("open"),
            closed: _t("closed"),
            start: _t("start"),
        };
        return labels[event] || event;
    }

    messageSummary(message) {
        if (!message || typeof message !== "object") {
            return _t("No message");
        }
        if (message.kind === "text") {
            return message.text ? `“${message.text}”` : _t("No text yet");
        }
        if (message.kind === "url") {
            return message.url ? _t("Plays %s", message.url.split("/").pop() || message.url) : _t("No audio URL yet");
        }
        if (message.kind === "file") {
            return message.attachment_id
                ? _t("Plays %s", this.attachments[message.attachment_id] || _t("an audio file"))
                : _t("No audio file yet");
        }
        return _t("No message");
    }

    nameOf(list, id) {
        return (list.find(([recordId]) => recordId === id) || [null, null])[1];
    }

    summarize(stateId, model) {
        if (stateId === START) {
            return [];
        }
        const state = model.state(stateId);
        const lines = [];
        switch (state?.type) {
            case "announce":
            case "voicemail":
                lines.push(this.messageSummary(state.message));
                if (state.type === "voicemail") {
                    lines.push(_t("Up to %s s", state.max_length ?? 120));
                }
                break;
            case "ivr": {
                lines.push(this.messageSummary(state.message));
                const keys = Object.keys(state.next || {}).filter((event) => event !== "timeout");
                lines.push(keys.length ? _t("Keys: %s", keys.sort().join(", ")) : _t("No key connected yet"));
                break;
            }
            case "business_hours":
                lines.push(state.calendar_id
                    ? _t("Open: %s", this.nameOf(this.flow.calendars, state.calendar_id) || `#${state.calendar_id}`)
                    : _t("No working hours chosen yet"));
                break;
            case "transfer_user":
                lines.push(state.user_id
                    ? _t("Rings %s", this.nameOf(this.flow.users, state.user_id) || `#${state.user_id}`)
                    : _t("No user chosen yet"));
                lines.push(this.transferDetails(state));
                break;
            case "transfer_group":
                lines.push(state.group_id
                    ? _t("Rings %s", this.nameOf(this.flow.groups, state.group_id) || `#${state.group_id}`)
                    : _t("No group chosen yet"));
                lines.push(`${state.ring_strategy === "sequential" ? _t("Sequential") : _t("Parallel")} · ${this.transferDetails(state)}`);
                break;
            default:
                break;
        }
        return lines;
    }

    transferDetails(state) {
        const parts = [_t("%s s", state.ring_timeout ?? 30)];
        if (state.queue?.enabled) {
            parts.push(_t("queue"));
        }
        if (state.record) {
            parts.push(_t("recorded"));
        }
        return parts.join(" · ");
    }

    // ------------------------------------------------------------------------------------
    // Validation, diff, saving, publishing
    // ------------------------------------------------------------------------------------

    onModelChange() {
        const ui = toRaw(this.ui);
        const draft = ui.draft;
        if (!ui.dirty) {
            this.ui.dirty = true;
        }
        if (ui.canUndo !== draft.canUndo || ui.canRedo !== draft.canRedo) {
            Object.assign(this.ui, { canUndo: draft.canUndo, canRedo: draft.canRedo });
        }
        this.checkLater();
    }

    async check() {
        const definition = toRaw(this.ui.draft).toJSON();
        const problems = await this.orm.silent.call("telephony.flow", "check_builder_definition", [[this.flowId], definition]);
        this.ui.problems = problems;
        this.indexProblems();
    }

    indexProblems() {
        const byState = {};
        for (const problem of this.ui.problems) {
            for (const stateId of problem.state_ids) {
                (byState[stateId] ||= []).push(problem.message);
            }
        }
        this.ui.problemsByState = this.ui.tab === "draft" ? byState : {};
    }

    computeDiff() {
        if (!this.hasPublished) {
            this.ui.changedStates = [];
            this.ui.changedConnections = [];
            this.ui.removedCount = 0;
            return;
        }
        const draft = toRaw(this.ui.draft).definition;
        const published = toRaw(this.ui.published).definition;
        const [mine, other] = this.ui.tab === "draft" ? [draft, published] : [published, draft];
        const diff = diffDefinitions(mine, other);
        this.ui.changedStates = [...diff.states];
        this.ui.changedConnections = [...diff.connections];
        this.ui.removedCount = diff.removed.length;
    }

    async saveDraft() {
        this.ui.saving = true;
        try {
            const problems = await this.orm.call("telephony.flow", "save_builder_definition", [[this.flowId], toRaw(this.ui).draft.toJSON()]);
            this.ui.problems = problems;
            this.indexProblems();
            this.ui.dirty = false;
            this.notification.add(_t("Draft saved."), { type: "success" });
        } finally {
            this.ui.saving = false;
        }
    }

    async publish() {
        this.ui.saving = true;
        try {
            const problems = await this.orm.call("telephony.flow", "save_builder_definition", [[this.flowId], toRaw(this.ui).draft.toJSON()]);
            this.ui.dirty = false;
            this.ui.problems = problems;
            this.indexProblems();
            if (problems.length) {
                // The server refuses too; saying it here lists every problem with its state.
                this.ui.publishProblems = problems;
                return;
            }
            try {
                await this.orm.call("telephony.flow", "action_publish", [[this.flowId]]);
            } catch (error) {
                const message = error.data?.message || error.message;
                this.ui.publishProblems = [{ message, state_ids: [] }];
                return;
            }
            const data = await this.orm.call("telephony.flow", "get_builder_data", [[this.flowId]]);
            this.load(data);
            this.notification.add(_t("Version %s published: incoming calls now follow it.", data.published_version), {
                type: "success",
            });
        } finally {
            this.ui.saving = false;
        }
    }

    closePublishProblems() {
        this.ui.publishProblems = null;
    }

    selectProblem(problem) {
        if (problem.state_ids.length) {
            this.ui.tab = "draft";
            this.ui.readonly = false;
            this.select(problem.state_ids[0]);
            this.centerOn(problem.state_ids[0]);
        }
        this.ui.publishProblems = null;
    }

    switchTab(tab) {
        if (tab === this.ui.tab) {
            return;
        }
        this.ui.tab = tab;
        this.ui.readonly = tab === "published" || !this.flow.can_edit;
        this.ui.selected = null;
        this.ui.selectedConnection = null;
        this.ui.menuFor = null;
        this.indexProblems();
        this.computeDiff();
        this.clearPath();
    }

    // ------------------------------------------------------------------------------------
    // Selection and editing
    // ------------------------------------------------------------------------------------

    select(stateId) {
        this.ui.selected = stateId === START ? null : stateId;
        this.ui.selectedConnection = null;
        this.ui.menuFor = null;
    }

    toggleMenu(stateId) {
        this.ui.menuFor = this.ui.menuFor === stateId ? null : stateId;
    }

    editState(stateId) {
        this.select(stateId);
    }

    deleteState(stateId) {
        if (this.ui.readonly) {
            return;
        }
        this.editDraft.deleteState(stateId);
        if (this.ui.selected === stateId) {
            this.ui.selected = null;
        }
        this.ui.menuFor = null;
    }

    deleteConnection(source, event) {
        if (this.ui.readonly) {
            return;
        }
        this.editDraft.disconnect(source, event);
        this.ui.selectedConnection = null;
    }

    selectConnection(key) {
        this.ui.selectedConnection = key;
        this.ui.selected = null;
        this.ui.menuFor = null;
    }

    undo() {
        if (!this.ui.readonly && this.editDraft.undo()) {
            this.afterHistory();
        }
    }

    redo() {
        if (!this.ui.readonly && this.editDraft.redo()) {
            this.afterHistory();
        }
    }

    afterHistory() {
        if (this.ui.selected && !(this.ui.selected in toRaw(this.ui).draft.states)) {
            this.ui.selected = null;
        }
        this.ui.menuFor = null;
    }

    autoArrange() {
        if (this.ui.readonly) {
            return;
        }
        this.editDraft.autoArrange();
        this.fitView();
    }

    /** Add a state of `type` where nothing sits yet (the palette's click, for keyboards). */
    addStateAtFreeSpot(type) {
        if (this.ui.readonly) {
            return;
        }
        const draft = this.editDraft;
        const ids = draft.stateIds;
        const bottom = Math.max(0, ...ids.map((id) => draft.position(id)[1] + draft.cardHeight(id)));
        const stateId = draft.addState(type, [40, ids.length ? bottom + 40 : 40]);
        this.select(stateId);
        this.centerOn(stateId);
    }

    onKeyDown(event) {
        const tag = event.target?.tagName;
        const editing = ["INPUT", "TEXTAREA", "SELECT"].includes(tag) || event.target?.isContentEditable;
        if (editing || !this.canvasRef.el) {
            return;
        }
        const mod = event.ctrlKey || event.metaKey;
        if (mod && event.key.toLowerCase() === "z") {
            event.preventDefault();
            event.shiftKey ? this.redo() : this.undo();
        } else if (mod && event.key.toLowerCase() === "y") {
            event.preventDefault();
            this.redo();
        } else if (event.key === "Delete" || event.key === "Backspace") {
            if (this.ui.selected) {
                event.preventDefault();
                this.deleteState(this.ui.selected);
            } else if (this.ui.selectedConnection) {
                event.preventDefault();
                const [source, connectionEvent] = this.ui.selectedConnection.split("/");
                this.deleteConnection(source, connectionEvent);
            }
        } else if (event.key === "Escape") {
            this.ui.drawing = null;
            this.ui.menuFor = null;
        }
    }

    // ------------------------------------------------------------------------------------
    // Canvas: pan, zoom, dragging cards and arrows, dropping new states
    // ------------------------------------------------------------------------------------

    toCanvas(clientX, clientY) {
        const rect = this.canvasRef.el.getBoundingClientRect();
        const { x, y, zoom } = this.ui.view;
        return [(clientX - rect.left - x) / zoom, (clientY - rect.top - y) / zoom];
    }

    onCanvasPointerDown(event) {
        if (event.button !== 0 || event.target.closest(".o_tfb_card, .o_tfb_conn_label, .o_tfb_zoom")) {
            return;
        }
        this.ui.selected = null;
        this.ui.selectedConnection = null;
        this.ui.menuFor = null;
        this.gesture = { kind: "pan", x: event.clientX, y: event.clientY, view: { ...this.ui.view } };
    }

    onCardPointerDown(stateId, event) {
        if (event.button !== 0 || event.target.closest(".o_tfb_handle, .o_tfb_menu, .o_tfb_menu_button")) {
            return;
        }
        event.stopPropagation();
        this.select(stateId);
        if (this.ui.readonly) {
            return;
        }
        const model = this.edit;
        model.beginGesture();
        this.gesture = {
            kind: "move",
            model,
            stateId,
            x: event.clientX,
            y: event.clientY,
            position: [...model.position(stateId)],
        };
    }

    onHandlePointerDown(source, eventName, event) {
        if (event.button !== 0 || this.ui.readonly) {
            return;
        }
        event.stopPropagation();
        event.preventDefault();
        const from = this.edit.outputPoint(source, eventName);
        this.ui.drawing = { source, event: eventName, from, to: from, over: null, refusal: "" };
        this.gesture = { kind: "connect" };
    }

    onPalettePointerDown(type, event) {
        if (event.button !== 0 || this.ui.readonly) {
            return;
        }
        event.preventDefault();
        this.gesture = { kind: "add", type, x: event.clientX, y: event.clientY };
        this.ui.adding = { type, x: event.clientX, y: event.clientY };
    }

    onPointerMove(event) {
        const gesture = this.gesture;
        if (!gesture) {
            return;
        }
        if (gesture.kind === "pan") {
            this.ui.view.x = gesture.view.x + event.clientX - gesture.x;
            this.ui.view.y = gesture.view.y + event.clientY - gesture.y;
        } else if (gesture.kind === "move") {
            const zoom = this.ui.view.zoom;
            gesture.model.moveState(gesture.stateId, [
                gesture.position[0] + (event.clientX - gesture.x) / zoom,
                gesture.position[1] + (event.clientY - gesture.y) / zoom,
            ]);
        } else if (gesture.kind === "connect") {
            const drawing = this.ui.drawing;
            drawing.to = this.toCanvas(event.clientX, event.clientY);
            const over = this.cardAt(event.clientX, event.clientY);
            if (over !== drawing.over) {
                drawing.over = over;
                drawing.refusal = over ? this.edit.connectionRefusal(drawing.source, drawing.event, over) : "";
            }
        } else if (gesture.kind === "add") {
            this.ui.adding = { type: gesture.type, x: event.clientX, y: event.clientY };
        }
    }

    cardAt(clientX, clientY) {
        const element = document.elementFromPoint(clientX, clientY)?.closest(".o_tfb_card[data-state-id]");
        const stateId = element?.dataset.stateId;
        return stateId && stateId !== START ? stateId : null;
    }

    onPointerUp(event) {
        const gesture = this.gesture;
        this.gesture = null;
        if (!gesture) {
            return;
        }
        if (gesture.kind === "move") {
            gesture.model.endGesture();
        } else if (gesture.kind === "connect") {
            const drawing = this.ui.drawing;
            this.ui.drawing = null;
            const target = this.cardAt(event.clientX, event.clientY) || drawing.over;
            if (target) {
                const refusal = this.editDraft.connect(drawing.source, drawing.event, target);
                if (refusal) {
                    this.showRefusal(refusal, target);
                }
            }
        } else if (gesture.kind === "add") {
            this.ui.adding = null;
            const rect = this.canvasRef.el.getBoundingClientRect();
            const inside = event.clientX >= rect.left && event.clientX <= rect.right &&
                event.clientY >= rect.top && event.clientY <= rect.bottom;
            const moved = Math.abs(event.clientX - gesture.x) + Math.abs(event.clientY - gesture.y) > 4;
            if (inside) {
                const [x, y] = this.toCanvas(event.clientX, event.clientY);
                const stateId = this.editDraft.addState(gesture.type, [x - 20, y - 15]);
                this.select(stateId);
            } else if (!moved) {
                this.addStateAtFreeSpot(gesture.type);
            }
        }
    }

    /** Say in place, on the state the arrow was dropped on, why the connection was refused. */
    showRefusal(message, stateId) {
        const model = toRaw(this.edit);
        const [x, y] = model.position(stateId);
        this.ui.refusal = { message, x, y: y + model.cardHeight(stateId) + 6, stateId };
        clearTimeout(this.refusalTimer);
        this.refusalTimer = setTimeout(() => (this.ui.refusal = null), 6000);
    }

    closeRefusal() {
        this.ui.refusal = null;
    }

    get refusalStyle() {
        const refusal = this.ui.refusal;
        return `left:${refusal.x}px;top:${refusal.y}px;`;
    }

    get addingStyle() {
        const adding = this.ui.adding;
        return `left:${adding.x + 6}px;top:${adding.y + 6}px;`;
    }

    get addingType() {
        return this.typesByName[this.ui.adding.type];
    }

    onWheel(event) {
        event.preventDefault();
        const factor = Math.exp(-event.deltaY * 0.0015);
        const rect = this.canvasRef.el.getBoundingClientRect();
        this.zoomAt(this.ui.view.zoom * factor, event.clientX - rect.left, event.clientY - rect.top);
    }

    zoomAt(zoom, px, py) {
        const view = this.ui.view;
        const next = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
        view.x = px - ((px - view.x) * next) / view.zoom;
        view.y = py - ((py - view.y) * next) / view.zoom;
        view.zoom = next;
    }

    zoomBy(factor) {
        const rect = this.canvasRef.el.getBoundingClientRect();
        this.zoomAt(this.ui.view.zoom * factor, rect.width / 2, rect.height / 2);
    }

    /** Fit every card in the canvas (at most 100%). */
    fitView() {
        const el = this.canvasRef.el;
        if (!el) {
            return;
        }
        const model = toRaw(this.edit);
        const ids = [START, ...model.stateIds];
        const boxes = ids.map((id) => {
            const [x, y] = model.position(id);
            return [x, y, x + model.cardWidth(id), y + model.cardHeight(id)];
        });
        const minX = Math.min(...boxes.map((box) => box[0]));
        const minY = Math.min(...boxes.map((box) => box[1]));
        const maxX = Math.max(...boxes.map((box) => box[2]));
        const maxY = Math.max(...boxes.map((box) => box[3]));
        const rect = el.getBoundingClientRect();
        // Readable first: below 70% the cards' text is too small, the rest is reached by panning.
        const fit = Math.min((rect.width - 60) / (maxX - minX || 1), (rect.height - 60) / (maxY - minY || 1));
        const zoom = Math.min(1, Math.max(FIT_MIN_ZOOM, fit));
        Object.assign(this.ui.view, { zoom, x: 30 - minX * zoom, y: 30 - minY * zoom });
    }

    centerOn(stateId) {
        const el = this.canvasRef.el;
        if (!el) {
            return;
        }
        const rect = el.getBoundingClientRect();
        const [x, y] = toRaw(this.edit).position(stateId);
        const zoom = this.ui.view.zoom;
        const [cx, cy] = [(rect.width - 80) / 2, rect.height / 2 - 60];
        const visible = x * zoom + this.ui.view.x > 0 && x * zoom + this.ui.view.x < rect.width - 240 &&
            y * zoom + this.ui.view.y > 0 && y * zoom + this.ui.view.y < rect.height - 100;
        if (!visible) {
            this.ui.view.x = cx - x * zoom;
            this.ui.view.y = cy - y * zoom;
        }
    }

    // ------------------------------------------------------------------------------------
    // The simulator
    // ------------------------------------------------------------------------------------

    openSimulator() {
        this.ui.simulating = true;
        this.ui.selected = null;
        this.ui.menuFor = null;
    }

    closeSimulator() {
        this.ui.simulating = false;
        this.clearPath();
    }

    showPath(path, current) {
        this.ui.pathStates = path;
        const connections = [];
        if (path.length) {
            connections.push(`${START}/start`);
        }
        this.ui.pathConnections = connections.concat(this.pathEvents || []);
        this.ui.simulatorAt = current || null;
    }

    /** Light the steps a simulated call took: `steps` of `telephony.flow.simulate`. */
    showSimulation(result) {
        const model = toRaw(this.edit);
        const connections = result.path.length ? [`${START}/start`] : [];
        for (const step of result.steps) {
            if (model.target(step.state, step.event)) {
                connections.push(`${step.state}/${step.event}`);
            }
        }
        this.ui.pathStates = [...result.path];
        this.ui.pathConnections = connections;
        this.ui.simulatorAt = result.waiting ? result.waiting.state : null;
    }

    clearPath() {
        this.ui.pathStates = [];
        this.ui.pathConnections = [];
        this.ui.simulatorAt = null;
    }

    async simulationDefinition() {
        if (this.ui.tab === "draft" && this.ui.dirty) {
            await this.saveDraft();
        }
    }

    back() {
        this.actionService.restore();
    }
}

registry.category("actions").add("builtin_telephony.flow_builder", FlowBuilder);
