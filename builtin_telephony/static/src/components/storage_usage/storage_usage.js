/** @odoo-module **/
import { Component, onMounted, onWillStart, onWillUnmount, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { loadBundle } from "@web/core/assets";
import { deserializeDate } from "@web/core/l10n/dates";
import { formatFloat } from "@web/core/utils/numbers";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useRecordObserver } from "@web/model/relational_model/utils";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

/**
 * Recording storage usage of the Plan details tab (requirements R5): minutes stored month by month
 * against the plan's minutes, from `telephony.account.get_storage_usage`.
 */
export class StorageUsage extends Component {
    static template = "builtin_telephony.StorageUsage";
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.canvasRef = useRef("canvas");
        this.state = useState({ usage: null });
        this.chart = null;
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            await this.load();
        });
        // The plan changed (the plan change reloads the record): reload the figures. The record
        // is the same object whatever its values, so the props alone would never say so.
        // (The plan is read first, always: the observer watches what its first call reads.)
        useRecordObserver(async (record) => {
            const plan = record.data.storage_plan;
            if (this.state.usage && plan !== this.state.usage.plan) {
                await this.load();
                this.renderChart();
            }
        });
        onMounted(() => this.renderChart());
        onWillUnmount(() => this.chart?.destroy());
    }

    async load() {
        this.state.usage = await this.orm.call("telephony.account", "get_storage_usage", [[this.props.record.resId]]);
    }

    get percent() {
        const usage = this.state.usage;
        return usage && usage.limit_minutes ? Math.min(100, (100 * usage.used_minutes) / usage.limit_minutes) : 0;
    }

    // In the user's language, as Odoo's fields show numbers (not the browser's locale).
    formatMinutes(value) {
        return formatFloat(value || 0, { digits: [16, 1], trailingZeros: false });
    }

    /** A month of the series (`YYYY-MM`) as a calendar names it. */
    formatMonth(month) {
        return deserializeDate(`${month}-01`).toFormat("MMM yyyy");
    }

    renderChart() {
        const usage = this.state.usage;
        if (!usage || !this.canvasRef.el) {
            return;
        }
        const data = {
            labels: usage.series.map((point) => this.formatMonth(point.month)),
            datasets: [
                {
                    type: "bar",
                    label: _t("Minutes recorded"),
                    data: usage.series.map((point) => point.recorded),
                    backgroundColor: "#17a2b8",
                },
                {
                    type: "line",
                    label: _t("Minutes stored"),
                    data: usage.series.map((point) => point.used),
                    borderColor: "#6f42c1",
                    backgroundColor: "#6f42c1",
                },
                {
                    type: "line",
                    label: _t("Plan"),
                    data: usage.series.map(() => usage.limit_minutes),
                    borderColor: "#dc3545",
                    borderDash: [6, 4],
                    pointRadius: 0,
                },
            ],
        };
        if (this.chart) {
            this.chart.data = data;
            this.chart.update();
            return;
        }
        this.chart = new Chart(this.canvasRef.el, {
            data,
            options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } },
        });
    }
}

registry.category("view_widgets").add("telephony_storage_usage", {
    component: StorageUsage,
});
