import { describe, expect, test } from "@odoo/hoot";

import { diffDefinitions, FlowModel, START } from "@builtin_telephony/flow_builder/flow_model";

describe.current.tags("headless");

// The shape of `telephony.flow.get_builder_schema()` (what the model reads of it).
const KEYS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*"];
const SCHEMA = {
    max_incoming: 10,
    types: [
        { type: "announce", label: "Announce", events: [{ event: "next" }], new_state: { message: { kind: "text", text: "" } } },
        { type: "ivr", label: "IVR menu", events: [...KEYS, "timeout"].map((event) => ({ event })), new_state: {} },
        { type: "transfer_group", label: "Transfer to group", events: ["timeout", "unavailable", "busy"].map((event) => ({ event })), new_state: { ring_timeout: 30 } },
        { type: "voicemail", label: "Voicemail", events: [{ event: "timeout" }], new_state: { max_length: 120 } },
    ],
};

function model(definition = { start: "", states: {} }) {
    return new FlowModel(definition, SCHEMA);
}

describe("editing", () => {
    test("add: the first state becomes the start, with the type's defaults", () => {
        const flow = model();
        const first = flow.addState("announce", [10.4, 20.6]);
        const second = flow.addState("announce", [300, 20]);
        expect(first).toBe("announce_1");
        expect(second).toBe("announce_2");
        expect(flow.definition.start).toBe(first);
        expect(flow.state(first)).toEqual({
            type: "announce",
            name: "Announce",
            message: { kind: "text", text: "" },
            next: {},
            position: [10, 21],
        });
        expect(flow.state(second).name).toBe("Announce 2");
        expect(() => flow.addState("fax")).toThrow();
    });

    test("move: positions kept in the definition, one undo step per drag", () => {
        const flow = model();
        const id = flow.addState("voicemail", [0, 0]);
        flow.beginGesture();
        for (let x = 1; x <= 30; x++) {
            flow.moveState(id, [x, x * 2]);
        }
        flow.endGesture();
        expect(flow.state(id).position).toEqual([30, 60]);
        expect(flow.toJSON().states[id].position).toEqual([30, 60]);
        flow.undo();
        expect(flow.state(id).position).toEqual([0, 0]);
        flow.undo();
        expect(flow.stateIds).toEqual([]);
    });

    test("connect and disconnect, the start included", () => {
        const flow = model();
        const menu = flow.addState("ivr");
        const sales = flow.addState("transfer_group");
        const voicemail = flow.addState("voicemail");
        expect(flow.connect(menu, "1", sales)).toBe("");
        expect(flow.connect(menu, "timeout", voicemail)).toBe("");
        expect(flow.connect(sales, "timeout", voicemail)).toBe("");
        expect(flow.state(menu).next).toEqual({ 1: sales, timeout: voicemail });
        expect(flow.connections().map((c) => `${c.source}/${c.event}>${c.target}`)).toEqual([
            `${START}/start>${menu}`,
            `${menu}/1>${sales}`,
            `${menu}/timeout>${voicemail}`,
            `${sales}/timeout>${voicemail}`,
        ]);
        expect(flow.incomingCount(voicemail)).toBe(2);
        // Redrawing an output replaces where it led.
        expect(flow.connect(menu, "1", voicemail)).toBe("");
        expect(flow.state(menu).next["1"]).toBe(voicemail);
        flow.disconnect(menu, "1");
        expect(flow.state(menu).next).toEqual({ timeout: voicemail });
        flow.disconnect(START, "start");
        expect(flow.definition.start).toBe("");
        expect(flow.connect(START, "start", sales)).toBe("");
        expect(flow.definition.start).toBe(sales);
        // An event the type does not have, or a target that is not a state.
        expect(flow.connect(voicemail, "busy", sales)).toMatch(/no busy output/);
        expect(flow.connect(menu, "2", "nowhere")).toMatch(/Drop the arrow on a state/);
    });

    test("delete a state and every connection to it", () => {
        const flow = model();
        const welcome = flow.addState("announce");
        const menu = flow.addState("ivr");
        const voicemail = flow.addState("voicemail");
        flow.connect(welcome, "next", menu);
        flow.connect(menu, "1", voicemail);
        flow.connect(menu, "2", voicemail);
        flow.deleteState(voicemail);
        expect(flow.stateIds).toEqual([welcome, menu]);
        expect(flow.state(menu).next).toEqual({});
        flow.deleteState(welcome);
        expect(flow.definition.start).toBe("");
        expect(flow.connections()).toEqual([]);
    });

    test("undo / redo walk the history back and forth", () => {
        const flow = model();
        const welcome = flow.addState("announce");
        const voicemail = flow.addState("voicemail");
        flow.connect(welcome, "next", voicemail);
        flow.updateState(welcome, { message: { kind: "text", text: "Hello" } });
        expect(flow.canRedo).toBe(false);
        flow.undo();
        expect(flow.state(welcome).message.text).toBe("");
        flow.undo();
        expect(flow.state(welcome).next).toEqual({});
        flow.redo();
        flow.redo();
        expect(flow.state(welcome).next).toEqual({ next: voicemail });
        expect(flow.state(welcome).message.text).toBe("Hello");
        expect(flow.redo()).toBe(false);
        flow.undo();
        // A new change after undo forgets what could be redone.
        flow.updateState(welcome, { name: "Greeting" });
        expect(flow.canRedo).toBe(false);
        while (flow.undo());
        expect(flow.definition).toEqual({ start: "", states: {} });
    });
});

describe("drawing rules", () => {
    test("a connection that would close a loop is refused, with the path", () => {
        const flow = model();
        const welcome = flow.addState("announce");
        const menu = flow.addState("ivr");
        const sales = flow.addState("transfer_group");
        flow.state(welcome).name = "Welcome";
        flow.state(menu).name = "Menu";
        flow.state(sales).name = "Sales";
        flow.connect(welcome, "next", menu);
        flow.connect(menu, "1", sales);
        const refusal = flow.connect(sales, "timeout", welcome);
        expect(refusal).toMatch(/loop/);
        expect(refusal).toMatch(/Welcome → Menu → Sales → Welcome/);
        expect(flow.state(sales).next).toEqual({});
        expect(flow.connect(menu, "2", menu)).toMatch(/itself/);
        // Connecting forward or sideways is no loop.
        expect(flow.connect(welcome, "next", sales)).toBe("");
        expect(flow.connect(sales, "busy", menu)).toMatch(/loop/);
    });

    test("an 11th incoming connection is refused; the start counts as one", () => {
        const flow = model();
        const voicemail = flow.addState("voicemail");
        const menu = flow.addState("ivr");
        const other = flow.addState("ivr");
        expect(flow.definition.start).toBe(voicemail);
        for (const key of KEYS.slice(0, 9)) {
            expect(flow.connect(menu, key, voicemail)).toBe("");
        }
        expect(flow.incomingCount(voicemail)).toBe(10);
        const refusal = flow.connect(other, "1", voicemail);
        expect(refusal).toMatch(/already has 10 incoming connections/);
        expect(flow.state(other).next).toEqual({});
        // Redrawing an existing connection is not a new one.
        expect(flow.connect(menu, "1", voicemail)).toBe("");
        flow.disconnect(START, "start");
        expect(flow.connect(other, "1", voicemail)).toBe("");
        expect(flow.connectionRefusal(START, "start", voicemail)).toMatch(/incoming/);
    });
});

describe("layout and comparison", () => {
    test("auto-arrange puts each state right of what leads to it", () => {
        const flow = model();
        const welcome = flow.addState("announce", [500, 500]);
        const menu = flow.addState("ivr", [0, 0]);
        const sales = flow.addState("transfer_group", [0, 0]);
        const voicemail = flow.addState("voicemail", [0, 0]);
        flow.connect(welcome, "next", menu);
        flow.connect(menu, "1", sales);
        flow.connect(menu, "timeout", voicemail);
        flow.connect(sales, "timeout", voicemail);
        flow.autoArrange();
        const x = (id) => flow.state(id).position[0];
        expect(x(welcome)).toBeLessThan(x(menu));
        expect(x(menu)).toBeLessThan(x(sales));
        expect(x(sales)).toBeLessThan(x(voicemail));
        flow.undo();
        expect(flow.state(welcome).position).toEqual([500, 500]);
    });

    test("diff: changed states and connections, positions ignored", () => {
        const published = {
            start: "a",
            states: {
                a: { type: "announce", message: { kind: "text", text: "Hi" }, next: { next: "b" }, position: [0, 0] },
                b: { type: "voicemail", max_length: 60, next: {}, position: [300, 0] },
            },
        };
        const draft = JSON.parse(JSON.stringify(published));
        draft.states.a.position = [40, 80];
        expect(diffDefinitions(draft, published).states.size).toBe(0);
        draft.states.b.max_length = 90;
        draft.states.c = { type: "announce", next: {} };
        draft.states.a.next.next = "c";
        const diff = diffDefinitions(draft, published);
        expect([...diff.states].sort()).toEqual(["b", "c"]);
        expect([...diff.connections]).toEqual(["a/next"]);
        expect(diffDefinitions(published, draft).removed).toEqual(["c"]);
    });
});
