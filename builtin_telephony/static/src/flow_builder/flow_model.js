/** @odoo-module **/
import { markRaw } from "@odoo/owl";

/**
 * The call-flow builder's model: a call-flow definition (the JSON of docs/contracts.md) and the
 * edits an administrator makes to it, with undo / redo and the drawing rules of connections
 * (no loop, at most `max_incoming` incoming connections per state).
 *
 * Plain JavaScript, no OWL and no server: the vocabulary (state types, their events and
 * settings, limits) comes from `telephony.flow.get_builder_schema()`, read once by the client
 * action and handed in as `schema`; everything here is unit-tested with Hoot.
 */

/** Pseudo-state id of the Start node (not a key of `states`). */
export const START = "__start__";

// Card geometry, shared by the canvas (which draws the cards) and the arrows / layout (which
// need to know where the handles are without measuring the DOM).
export const CARD_WIDTH = 230;
export const CARD_HEADER = 34;
export const CARD_SUMMARY = 42;
export const CARD_ROW = 18;
export const START_SIZE = [96, 40];
const LAYER_GAP = 90;
const ROW_GAP = 36;
const HISTORY_LIMIT = 200;

function clone(value) {
    return JSON.parse(JSON.stringify(value));
}

export class FlowModel {
    /**
     * @param {Object|string} definition the call-flow JSON (draft or published)
     * @param {Object} schema the engine's vocabulary (`get_builder_schema`)
     */
    constructor(definition, schema) {
        this.schema = schema;
        this.typesByName = Object.fromEntries(schema.types.map((type) => [type.type, type]));
        this.definition = FlowModel.normalize(definition);
        // Not reactive: the builder holds the model in an OWL state, and what renders the canvas
        // must not be asked to render again because the history moved.
        this.history = markRaw({
            undo: [],
            redo: [],
            pending: null, // snapshot taken when a gesture (drag) began
            revision: 0, // bumped on each change
            onChange: null, // called after each change (the builder validates the draft)
        });
    }

    /** A definition as the builder edits it: an object with `start`, `states` and positions. */
    static normalize(definition) {
        let parsed = definition;
        if (typeof definition === "string") {
            try {
                parsed = definition.trim() ? JSON.parse(definition) : {};
            } catch {
                parsed = {};
            }
        }
        parsed = parsed && typeof parsed === "object" ? clone(parsed) : {};
        if (!parsed.states || typeof parsed.states !== "object" || Array.isArray(parsed.states)) {
            parsed.states = {};
        }
        if (typeof parsed.start !== "string") {
            parsed.start = "";
        }
        for (const state of Object.values(parsed.states)) {
            if (state && typeof state === "object" && (!state.next || typeof state.next !== "object")) {
                state.next = {};
            }
        }
        return parsed;
    }

    // ------------------------------------------------------------------------------------
    // Reading
    // ------------------------------------------------------------------------------------

    get states() {
        return this.definition.states;
    }

    get stateIds() {
        return Object.keys(this.definition.states);
    }

    state(stateId) {
        return this.definition.states[stateId];
    }

    typeOf(stateId) {
        return this.typesByName[this.state(stateId)?.type];
    }

    /** The events a state (or the Start node) can leave through, in the type's order. */
    events(stateId) {
        if (stateId === START) {
            return ["start"];
        }
        return this.typeOf(stateId)?.events.map((event) => event.event) || [];
    }

    /** The target of `event` from `stateId` ('' when not connected). */
    target(stateId, event) {
        if (stateId === START) {
            return this.definition.start || "";
        }
        const target = this.state(stateId)?.next?.[event];
        return typeof target === "string" ? target : "";
    }

    /** Every connection `{source, event, target}`, the start's first. */
    connections() {
        const connections = [];
        if (this.definition.start) {
            connections.push({ source: START, event: "start", target: this.definition.start });
        }
        for (const [stateId, state] of Object.entries(this.states)) {
            for (const event of this.events(stateId)) {
                const target = state.next?.[event];
                if (target) {
                    connections.push({ source: stateId, event, target });
                }
            }
            // Connections for events the type does not have: still drawn, so that they can be
            // seen and deleted (validation explains them).
            for (const [event, target] of Object.entries(state.next || {})) {
                if (target && !this.events(stateId).includes(event)) {
                    connections.push({ source: stateId, event, target, invalid: true });
                }
            }
        }
        return connections;
    }

    /** Incoming connections of a state, the start's included (the rule counts it). */
    incomingCount(stateId) {
        return this.connections().filter((connection) => connection.target === stateId).length;
    }

    /** The states reachable from `stateId` by following connections (itself included). */
    reachableFrom(stateId) {
        const seen = new Set();
        const queue = [stateId];
        while (queue.length) {
            const current = queue.shift();
            if (seen.has(current) || !(current in this.states)) {
                continue;
            }
            seen.add(current);
            for (const target of Object.values(this.state(current).next || {})) {
                if (typeof target === "string" && !seen.has(target)) {
                    queue.push(target);
                }
            }
        }
        return seen;
    }

    /** A path of state ids from `from` to `to` (both included), or null. */
    pathBetween(from, to) {
        const previous = new Map([[from, null]]);
        const queue = [from];
        while (queue.length) {
            const current = queue.shift();
            if (current === to) {
                const path = [];
                for (let step = to; step !== null; step = previous.get(step)) {
                    path.unshift(step);
                }
                return path;
            }
            for (const target of Object.values(this.state(current)?.next || {})) {
                if (typeof target === "string" && target in this.states && !previous.has(target)) {
                    previous.set(target, current);
                    queue.push(target);
                }
            }
        }
        return null;
    }

    label(stateId) {
        if (stateId === START) {
            return this.schema.labels?.start || "Start";
        }
        return this.state(stateId)?.name || stateId;
    }

    /**
     * Why `source --event--> target` may not be drawn, or '' when it may (F2): the
     * target must be another existing state, the event one of the source's, the connection
     * must not close a loop, and the target must not get an 11th incoming connection.
     */
    connectionRefusal(source, event, target) {
        const texts = this.schema.texts || {};
        if (!(target in this.states)) {
            return texts.no_target || "Drop the arrow on a state.";
        }
        if (source !== START && !(source in this.states)) {
            return texts.no_target || "Drop the arrow on a state.";
        }
        if (!this.events(source).includes(event)) {
            return (texts.bad_event || "This state has no %(event)s output.").replace("%(event)s", event);
        }
        if (source === target) {
            return texts.self_loop || "A state cannot connect to itself: that would be a loop.";
        }
        if (this.target(source, event) === target) {
            return "";
        }
        if (source !== START) {
            const path = this.pathBetween(target, source);
            if (path) {
                const names = [...path, target].map((stateId) => this.label(stateId)).join(" → ");
                return (texts.loop || "This connection would close a loop (%(path)s): a call may not come back to a state it has passed.")
                    .replace("%(path)s", names);
            }
        }
        const limit = this.schema.max_incoming;
        if (this.incomingCount(target) >= limit) {
            return (texts.incoming || "%(state)s already has %(max)s incoming connections, the most a state accepts.")
                .replace("%(state)s", this.label(target))
                .replace("%(max)s", String(limit));
        }
        return "";
    }

    // ------------------------------------------------------------------------------------
    // Editing (every change goes through `change`, which keeps undo / redo)
    // ------------------------------------------------------------------------------------

    /** Called after each change (the builder checks the draft and marks it unsaved). */
    set onChange(callback) {
        this.history.onChange = callback;
    }

    get onChange() {
        return this.history.onChange;
    }

    get revision() {
        return this.history.revision;
    }

    change(mutate) {
        const history = this.history;
        const snapshot = history.pending || JSON.stringify(this.definition);
        const result = mutate(this.definition);
        if (!history.pending) {
            this.pushUndo(snapshot);
        }
        history.revision++;
        history.onChange?.();
        return result;
    }

    pushUndo(snapshot) {
        const history = this.history;
        if (history.undo.at(-1) === snapshot) {
            return;
        }
        history.undo.push(snapshot);
        if (history.undo.length > HISTORY_LIMIT) {
            history.undo.shift();
        }
        history.redo = [];
    }

    /** A gesture (dragging a card) is one undo step however many moves it makes. */
    beginGesture() {
        this.history.pending = JSON.stringify(this.definition);
    }

    endGesture() {
        const snapshot = this.history.pending;
        this.history.pending = null;
        if (snapshot !== null && snapshot !== JSON.stringify(this.definition)) {
            this.pushUndo(snapshot);
            this.history.onChange?.();
        }
    }

    get canUndo() {
        return this.history.undo.length > 0;
    }

    get canRedo() {
        return this.history.redo.length > 0;
    }

    undo() {
        if (!this.canUndo) {
            return false;
        }
        this.history.redo.push(JSON.stringify(this.definition));
        this.restore(this.history.undo.pop());
        return true;
    }

    redo() {
        if (!this.canRedo) {
            return false;
        }
        this.history.undo.push(JSON.stringify(this.definition));
        this.restore(this.history.redo.pop());
        return true;
    }

    restore(snapshot) {
        const definition = JSON.parse(snapshot);
        // Keep the same object (the builder holds it reactive): replace its content.
        for (const key of Object.keys(this.definition)) {
            delete this.definition[key];
        }
        Object.assign(this.definition, definition);
        this.history.revision++;
        this.history.onChange?.();
    }

    newStateId(type) {
        let index = 1;
        while (`${type}_${index}` in this.states) {
            index++;
        }
        return `${type}_${index}`;
    }

    /** Add a state of `type` at `position`; the first state added becomes the start. */
    addState(type, position = [40, 40]) {
        const stateType = this.typesByName[type];
        if (!stateType) {
            throw new Error(`Unknown state type ${type}`);
        }
        const stateId = this.newStateId(type);
        const count = Object.values(this.states).filter((state) => state.type === type).length;
        return this.change((definition) => {
            definition.states[stateId] = {
                type,
                name: count ? `${stateType.label} ${count + 1}` : stateType.label,
                ...clone(stateType.new_state || {}),
                next: {},
                position: position.map(Math.round),
            };
            if (!definition.start) {
                definition.start = stateId;
            }
            return stateId;
        });
    }

    moveState(stateId, position) {
        if (stateId === START) {
            this.change((definition) => {
                definition.start_position = position.map(Math.round);
            });
            return;
        }
        const state = this.state(stateId);
        if (!state) {
            return;
        }
        const rounded = position.map(Math.round);
        if (state.position && state.position[0] === rounded[0] && state.position[1] === rounded[1]) {
            return;
        }
        this.change(() => {
            state.position = rounded;
        });
    }

    /** Apply `values` to a state's settings (`null`/`undefined` removes a setting). */
    updateState(stateId, values) {
        const state = this.state(stateId);
        if (!state) {
            return;
        }
        this.change(() => {
            for (const [key, value] of Object.entries(values)) {
                if (value === undefined || value === null) {
                    delete state[key];
                } else {
                    state[key] = clone(value);
                }
            }
        });
    }

    /**
     * Draw `source --event--> target` (replacing what that output led to).
     * @returns {string} '' when drawn, else why it was refused
     */
    connect(source, event, target) {
        const refusal = this.connectionRefusal(source, event, target);
        if (refusal) {
            return refusal;
        }
        if (this.target(source, event) === target) {
            return "";
        }
        this.change((definition) => {
            if (source === START) {
                definition.start = target;
            } else {
                definition.states[source].next[event] = target;
            }
        });
        return "";
    }

    disconnect(source, event) {
        if (!this.target(source, event) && source !== START && !(event in (this.state(source)?.next || {}))) {
            return;
        }
        this.change((definition) => {
            if (source === START) {
                definition.start = "";
            } else {
                delete definition.states[source].next[event];
            }
        });
    }

    /** Delete a state and every connection to it. */
    deleteState(stateId) {
        if (!(stateId in this.states)) {
            return;
        }
        this.change((definition) => {
            delete definition.states[stateId];
            if (definition.start === stateId) {
                definition.start = "";
            }
            for (const state of Object.values(definition.states)) {
                for (const [event, target] of Object.entries(state.next || {})) {
                    if (target === stateId) {
                        delete state.next[event];
                    }
                }
            }
        });
    }

    // ------------------------------------------------------------------------------------
    // Geometry and layout
    // ------------------------------------------------------------------------------------

    position(stateId) {
        if (stateId === START) {
            return this.definition.start_position || this.defaultStartPosition();
        }
        return this.state(stateId)?.position || [40, 40];
    }

    defaultStartPosition() {
        const start = this.state(this.definition.start);
        if (start?.position) {
            return [start.position[0] - START_SIZE[0] - 70, start.position[1]];
        }
        return [-140, 40];
    }

    cardHeight(stateId) {
        if (stateId === START) {
            return START_SIZE[1];
        }
        return CARD_HEADER + CARD_SUMMARY + this.events(stateId).length * CARD_ROW + 8;
    }

    cardWidth(stateId) {
        return stateId === START ? START_SIZE[0] : CARD_WIDTH;
    }

    /** Canvas point of the output handle of `event` on `stateId`. */
    outputPoint(stateId, event) {
        const [x, y] = this.position(stateId);
        if (stateId === START) {
            return [x + START_SIZE[0], y + START_SIZE[1] / 2];
        }
        let index = this.events(stateId).indexOf(event);
        if (index < 0) {
            index = this.events(stateId).length - 1;
        }
        return [x + CARD_WIDTH, y + CARD_HEADER + CARD_SUMMARY + index * CARD_ROW + CARD_ROW / 2];
    }

    /** Canvas point where arrows enter `stateId`. */
    inputPoint(stateId) {
        const [x, y] = this.position(stateId);
        return [x, y + CARD_HEADER / 2];
    }

    /**
     * Arrange the states left to right in layers: a state sits one layer right of the
     * furthest state leading to it (a valid flow has no loop); states of a layer are ordered
     * by where their predecessors sit, so arrows cross as little as simple means allow.
     */
    autoArrange() {
        const ids = this.stateIds;
        const layer = Object.fromEntries(ids.map((id) => [id, 0]));
        const predecessors = Object.fromEntries(ids.map((id) => [id, []]));
        for (const { source, target } of this.connections()) {
            if (source !== START && target in layer) {
                predecessors[target].push(source);
            }
        }
        // Longest path from the roots; bounded by the number of states, so a loop cannot hang it.
        for (let round = 0; round < ids.length; round++) {
            let moved = false;
            for (const { source, target } of this.connections()) {
                if (source !== START && target in layer && layer[target] < layer[source] + 1 && layer[source] + 1 < ids.length) {
                    layer[target] = layer[source] + 1;
                    moved = true;
                }
            }
            if (!moved) {
                break;
            }
        }
        // States no call can reach go after the others.
        const reachable = this.definition.start ? this.reachableFrom(this.definition.start) : new Set();
        const maxLayer = Math.max(0, ...Object.values(layer));
        for (const id of ids) {
            if (!reachable.has(id) && predecessors[id].length === 0 && reachable.size) {
                layer[id] = maxLayer + 1;
            }
        }
        const layers = [];
        for (const id of ids) {
            (layers[layer[id]] ||= []).push(id);
        }
        const rank = {};
        const positions = {};
        let x = 40;
        for (const members of layers.filter(Boolean)) {
            const barycenter = (id) => {
                const ranks = predecessors[id].filter((p) => p in rank).map((p) => rank[p]);
                if (id === this.definition.start) {
                    return -1;
                }
                return ranks.length ? ranks.reduce((a, b) => a + b, 0) / ranks.length : Infinity;
            };
            members.sort((a, b) => barycenter(a) - barycenter(b));
            let y = 40;
            members.forEach((id, index) => {
                rank[id] = index;
                positions[id] = [x, y];
                y += this.cardHeight(id) + ROW_GAP;
            });
            x += CARD_WIDTH + LAYER_GAP;
        }
        this.change((definition) => {
            for (const [id, position] of Object.entries(positions)) {
                definition.states[id].position = position;
            }
            delete definition.start_position;
        });
    }

    /**
     * States without a position (a flow written as JSON, or imported) are arranged once when
     * the builder opens; this is no edit of the administrator's, so it is not an undo step.
     */
    arrangeIfUnplaced() {
        const unplaced = Object.values(this.states).some((state) => !Array.isArray(state.position));
        if (!unplaced) {
            return false;
        }
        const onChange = this.history.onChange;
        this.history.onChange = null;
        this.autoArrange();
        this.history.undo = [];
        this.history.onChange = onChange;
        return true;
    }

    /** The definition as saved: a copy, states without positions get one. */
    toJSON() {
        const definition = clone(this.definition);
        for (const [stateId, state] of Object.entries(definition.states)) {
            state.position ||= this.position(stateId);
        }
        return definition;
    }
}

function stableStringify(value) {
    if (Array.isArray(value)) {
        return `[${value.map(stableStringify).join(",")}]`;
    }
    if (value && typeof value === "object") {
        const keys = Object.keys(value).sort();
        return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(value[key])}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

/**
 * What differs between two definitions (the draft and the published version): the ids of
 * states added or changed, and the keys (`source/event`) of connections added or changed.
 * Positions are not changes: moving a card changes nothing for callers.
 */
export function diffDefinitions(definition, other) {
    const a = FlowModel.normalize(definition);
    const b = FlowModel.normalize(other);
    const strip = (state) => {
        if (!state) {
            return null;
        }
        const { position, next, ...settings } = state;
        return stableStringify(settings);
    };
    const states = new Set();
    const connections = new Set();
    for (const [stateId, state] of Object.entries(a.states)) {
        if (strip(state) !== strip(b.states[stateId])) {
            states.add(stateId);
        }
        for (const [event, target] of Object.entries(state.next || {})) {
            if (b.states[stateId]?.next?.[event] !== target) {
                connections.add(`${stateId}/${event}`);
            }
        }
    }
    if (a.start !== b.start) {
        connections.add(`${START}/start`);
    }
    const removed = Object.keys(b.states).filter((stateId) => !(stateId in a.states));
    return { states, connections, removed };
}
