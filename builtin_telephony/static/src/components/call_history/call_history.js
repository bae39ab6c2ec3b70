/** @odoo-module **/
import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

const PAGE_SIZE = 50;

/**
 * The Call history tab (requirements H1, H2): every call the user may see, filtered by call type, owner
 * and period (the credit analytics' presets), a play button per recorded call, and the filtered
 * list as CSV (`/telephony/calls/export.csv`, the same filters, streamed by the server).
 */
export class CallHistory extends Component {
    static template = "builtin_telephony.CallHistory";
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.callTypes = [
            ["", _t("All calls")],
            ["incoming", _t("Incoming")],
            ["outgoing", _t("Outgoing")],
            ["missed", _t("Missed")],
        ];
        this.periods = [
            ["", _t("Any time")],
            ["this_week", _t("This week")],
            ["last_week", _t("Last week")],
            ["this_month", _t("This month")],
            ["last_month", _t("Last month")],
            ["this_quarter", _t("This quarter")],
            ["last_quarter", _t("Last quarter")],
            ["custom", _t("Custom range")],
        ];
        this.state = useState({
            callType: "",
            userId: "",
            period: "",
            dateFrom: "",
            dateTo: "",
            offset: 0,
            history: null,
            owners: [],
            playing: false,
            downloading: false,
            error: "",
        });
        onWillStart(async () => {
            const users = await this.orm.searchRead("telephony.user", [], ["user_id"]);
            const seen = new Map(users.filter((u) => u.user_id).map((u) => [u.user_id[0], u.user_id[1]]));
            this.state.owners = [...seen.entries()].sort((a, b) => a[1].localeCompare(b[1]));
            await this.load();
        });
    }

    async load() {
        const { callType, userId, period, dateFrom, dateTo, offset } = this.state;
        if (period === "custom" && (!dateFrom || !dateTo)) {
            this.state.error = _t("Choose both dates of the custom range.");
            return;
        }
        this.state.error = "";
        this.state.history = await this.orm.call("telephony.call", "get_call_history", [], {
            call_type: callType || false,
            user_id: userId ? parseInt(userId) : false,
            period: period || false,
            date_from: dateFrom || false,
            date_to: dateTo || false,
            offset,
            limit: PAGE_SIZE,
        });
    }

    async onFilter(field, ev) {
        this.state[field] = ev.target.value;
        this.state.offset = 0;
        this.state.playing = false;
        await this.load();
    }

    async onPage(step) {
        this.state.offset = Math.max(0, this.state.offset + step * PAGE_SIZE);
        await this.load();
    }

    get pageLabel() {
        const history = this.state.history;
        if (!history || !history.length) {
            return "0";
        }
        const last = Math.min(this.state.offset + PAGE_SIZE, history.length);
        return `${this.state.offset + 1}-${last} / ${history.length}`;
    }

    formatDate(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    formatCredits(value) {
        return (value || 0).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 4 });
    }

    togglePlay(recordingId) {
        this.state.playing = this.state.playing === recordingId ? false : recordingId;
    }

    /** Fetch the CSV (the page shows that it runs), then hand it to the browser as a file. */
    async download() {
        const url = this.state.history.export_url;
        this.state.downloading = true;
        try {
            const response = await fetch(url, { credentials: "same-origin" });
            if (!response.ok) {
                throw new Error(await response.text());
            }
            const blob = await response.blob();
            const disposition = response.headers.get("Content-Disposition") || "";
            const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/.exec(disposition);
            const link = document.createElement("a");
            link.href = URL.createObjectURL(blob);
            link.download = match ? decodeURIComponent(match[1]) : "calls.csv";
            document.body.appendChild(link);
            link.click();
            link.remove();
            setTimeout(() => URL.revokeObjectURL(link.href), 1000);
            this.notification.add(_t("The call history was downloaded."), { type: "success" });
        } catch (error) {
            const text = String(error.message || error).replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
            this.notification.add(text || _t("The download failed. Try again."), { type: "danger" });
        } finally {
            this.state.downloading = false;
        }
    }
}

registry.category("view_widgets").add("telephony_call_history", {
    component: CallHistory,
});
