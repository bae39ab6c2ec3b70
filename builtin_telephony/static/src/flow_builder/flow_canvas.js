/** @odoo-module **/
import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { CARD_HEADER, CARD_ROW, CARD_SUMMARY, CARD_WIDTH, START, START_SIZE } from "./flow_model";

/**
 * One state on the canvas: its type icon, name, key settings and one output handle per
 * event. It subscribes to its own state only, so dragging a card re-renders that card and the
 * arrows, not the 49 others.
 */
export class FlowCard extends Component {
    static template = "builtin_telephony.FlowCard";
    static props = ["model", "ui", "stateId", "builder"];

    setup() {
        this.model = useState(this.props.model);
        this.ui = useState(this.props.ui);
        this.START = START;
    }

    get isStart() {
        return this.props.stateId === START;
    }

    get state() {
        return this.model.state(this.props.stateId) || {};
    }

    get type() {
        return this.model.typeOf(this.props.stateId) || { label: this.state.type, icon: "fa-question", events: [] };
    }

    get style() {
        const [x, y] = this.model.position(this.props.stateId);
        const height = this.model.cardHeight(this.props.stateId);
        const width = this.isStart ? START_SIZE[0] : CARD_WIDTH;
        return `left:${x}px;top:${y}px;width:${width}px;height:${height}px;`;
    }

    get geometry() {
        return { header: CARD_HEADER, summary: CARD_SUMMARY, row: CARD_ROW };
    }

    get problems() {
        return this.ui.problemsByState[this.props.stateId] || [];
    }

    get problemTitle() {
        return this.problems.join("\n");
    }

    get changed() {
        return this.ui.changedStates.includes(this.props.stateId);
    }

    get onPath() {
        return this.ui.pathStates.includes(this.props.stateId);
    }

    get className() {
        const classes = ["o_tfb_card"];
        if (this.isStart) {
            classes.push("o_tfb_start");
        }
        if (this.ui.selected === this.props.stateId) {
            classes.push("o_tfb_selected");
        }
        if (this.problems.length) {
            classes.push("o_tfb_invalid");
        }
        if (this.changed) {
            classes.push("o_tfb_changed");
        }
        if (this.onPath) {
            classes.push("o_tfb_on_path");
        }
        if (this.ui.simulatorAt === this.props.stateId) {
            classes.push("o_tfb_sim_current");
        }
        const drawing = this.ui.drawing;
        if (drawing && drawing.over === this.props.stateId) {
            classes.push(drawing.refusal ? "o_tfb_drop_refused" : "o_tfb_drop_ok");
        }
        return classes.join(" ");
    }

    /** Two short lines saying what the state does (who is rung, the keys, the message). */
    get summary() {
        return this.props.builder.summarize(this.props.stateId, this.model);
    }

    get rows() {
        const events = this.model.events(this.props.stateId);
        return events.map((event) => {
            const target = this.model.target(this.props.stateId, event);
            return {
                event,
                label: this.props.builder.eventLabel(event),
                target,
                targetName: target ? this.model.label(target) : "",
                title: _t("Drag to connect %s", this.props.builder.eventLabel(event)),
            };
        });
    }

    get menuOpen() {
        return this.ui.menuFor === this.props.stateId;
    }

    get readonly() {
        return this.ui.readonly;
    }

    get changedTitle() {
        return this.ui.tab === "draft" ? _t("Changed since the published version") : _t("Differs from the draft");
    }
}

/**
 * One connection: an SVG arrow from a state's output to the next state, labelled with its event,
 * with a trash icon. It reads only the positions of its two ends, so dragging a card re-renders
 * the arrows that touch it and no other.
 */
export class FlowArrow extends Component {
    static template = "builtin_telephony.FlowArrow";
    static props = ["model", "ui", "builder", "source", "event", "target", "invalid?"];

    setup() {
        this.model = useState(this.props.model);
        this.ui = useState(this.props.ui);
    }

    static path([x1, y1], [x2, y2]) {
        const dx = Math.max(40, Math.abs(x2 - x1) / 2);
        return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
    }

    get key() {
        return `${this.props.source}/${this.props.event}`;
    }

    get arrow() {
        const { source, event, target } = this.props;
        const from = this.model.outputPoint(source, event);
        const to = this.model.inputPoint(target);
        const label = source === START ? "" : this.props.builder.eventLabel(event);
        return {
            d: FlowArrow.path(from, to),
            label,
            // The middle of the curve (t = 0.5): where the label and its trash icon sit.
            labelX: (from[0] + to[0]) / 2,
            labelY: (from[1] + to[1]) / 2,
            labelWidth: Math.max(18, label.length * 7 + 8),
        };
    }

    get className() {
        const key = this.key;
        const classes = ["o_tfb_connection"];
        if (this.ui.changedConnections.includes(key)) {
            classes.push("o_tfb_changed");
        }
        if (this.ui.selectedConnection === key) {
            classes.push("o_tfb_selected");
        }
        if (this.ui.pathConnections.includes(key)) {
            classes.push("o_tfb_on_path");
        }
        if (this.props.invalid) {
            classes.push("o_tfb_invalid");
        }
        return classes.join(" ");
    }
}

/** The connections, drawn as SVG arrows (one `FlowArrow` each), and the arrow being drawn. */
export class FlowArrows extends Component {
    static template = "builtin_telephony.FlowArrows";
    static components = { FlowArrow };
    static props = ["model", "ui", "builder"];

    setup() {
        this.model = useState(this.props.model);
        this.ui = useState(this.props.ui);
    }

    get connections() {
        return this.model.connections().filter((connection) => connection.target in this.model.states);
    }

    get drawing() {
        const drawing = this.ui.drawing;
        if (!drawing) {
            return null;
        }
        return { d: FlowArrow.path(drawing.from, drawing.to), refused: Boolean(drawing.refusal) };
    }
}
