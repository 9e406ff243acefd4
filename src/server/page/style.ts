/** The status page's stylesheet: neutral light and dark themes from the system setting. */
export const STYLE_CSS = `
:root {
  --bg: #f5f6f8;
  --card: #ffffff;
  --fg: #1a1f27;
  --muted: #677185;
  --faint: #9aa3b2;
  --line: #e3e6eb;
  --grid: #eef0f3;
  --tile: #f7f8fa;
  --ref: #8d97a8;
  --ref-fill: rgba(141, 151, 168, 0.26);
  --win: #2f66f0;
  --win-band: rgba(47, 102, 240, 0.13);
  --ok: #16a05a;
  --warn: #cf8500;
  --crit: #d7353b;
  --idle: #8b95a6;
  --warn-zone: rgba(207, 133, 0, 0.07);
  --crit-zone: rgba(215, 53, 59, 0.07);
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.05);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1116;
    --card: #161a21;
    --fg: #e5e8ed;
    --muted: #98a1b1;
    --faint: #6b7485;
    --line: #252b35;
    --grid: #1e242d;
    --tile: #1b2028;
    --ref: #7e889a;
    --ref-fill: rgba(126, 136, 154, 0.24);
    --win: #6f97ff;
    --win-band: rgba(111, 151, 255, 0.16);
    --ok: #3fcf80;
    --warn: #f2ad3a;
    --crit: #ff6166;
    --idle: #7b8496;
    --warn-zone: rgba(242, 173, 58, 0.06);
    --crit-zone: rgba(255, 97, 102, 0.07);
    --shadow: none;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans", Arial, sans-serif;
  font-variant-numeric: tabular-nums;
}
a { color: inherit; }
.top {
  position: sticky; top: 0; z-index: 2;
  display: flex; align-items: center; gap: 24px;
  padding: 12px 28px;
  background: color-mix(in srgb, var(--bg) 88%, transparent);
  backdrop-filter: blur(6px);
  border-bottom: 1px solid var(--line);
}
.brand { display: flex; align-items: center; gap: 9px; font-weight: 650; font-size: 16px; letter-spacing: 0.01em; }
.brand img { display: block; border-radius: 6px; }
.summary { flex: 1; display: flex; gap: 18px; color: var(--muted); flex-wrap: wrap; }
.summary b { color: var(--fg); font-weight: 600; }
.summary .n-warning b { color: var(--warn); }
.summary .n-critical b { color: var(--crit); }
.conn { display: flex; align-items: center; gap: 7px; color: var(--muted); font-size: 12.5px; white-space: nowrap; }
.conn .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--idle); }
.conn[data-state="live"] .dot { background: var(--ok); box-shadow: 0 0 0 3px color-mix(in srgb, var(--ok) 22%, transparent); }
.conn[data-state="error"] .dot { background: var(--crit); }
.grid {
  display: grid; gap: 20px;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, 540px), 1fr));
  align-items: start;
  padding: 22px 28px 8px;
  max-width: 1800px; margin: 0 auto;
}
.empty { color: var(--muted); padding: 40px 28px; text-align: center; }
.card {
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 12px;
  box-shadow: var(--shadow);
  padding: 16px 18px 14px;
  display: flex; flex-direction: column; gap: 14px;
  min-width: 0;
  position: relative;
  overflow: hidden;
}
.card::before { content: ""; position: absolute; left: 0; top: 0; bottom: 0; width: 3px; background: var(--state, var(--idle)); }
.card[data-state="ok"] { --state: var(--ok); }
.card[data-state="warning"] { --state: var(--warn); }
.card[data-state="critical"] { --state: var(--crit); }
.card[data-state="critical"] { border-color: color-mix(in srgb, var(--crit) 45%, var(--line)); }
.head { display: flex; align-items: flex-start; gap: 12px; }
.head .titles { flex: 1; min-width: 0; }
.name { margin: 0; font-size: 16px; font-weight: 650; overflow-wrap: anywhere; }
.sub { color: var(--muted); font-size: 12.5px; margin-top: 2px; overflow-wrap: anywhere; }
.badge {
  display: inline-flex; align-items: center; gap: 6px;
  padding: 3px 10px; border-radius: 999px;
  font-size: 11.5px; font-weight: 650; letter-spacing: 0.04em; text-transform: uppercase; white-space: nowrap;
  color: var(--state, var(--idle));
  background: color-mix(in srgb, var(--state, var(--idle)) 13%, transparent);
}
.badge::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
.badge.stale { --state: var(--idle); }
.tiles { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; }
.tile {
  appearance: none; font: inherit; color: inherit; text-align: left; cursor: pointer;
  background: var(--tile); border: 1px solid transparent; border-radius: 9px;
  padding: 9px 11px 8px; min-width: 0;
  display: flex; flex-direction: column; gap: 3px;
}
.tile:hover { border-color: var(--line); }
.tile:focus-visible { outline: 2px solid var(--win); outline-offset: 1px; }
.tile[aria-pressed="true"] { border-color: color-mix(in srgb, var(--win) 55%, transparent); }
.tile .label { font-size: 11.5px; color: var(--muted); font-weight: 550; }
.tile .value { font-size: 19px; font-weight: 620; line-height: 1.2; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile .value small { font-size: 12px; font-weight: 450; color: var(--muted); margin-left: 3px; }
.tile[data-level="warning"] .value { color: var(--warn); }
.tile[data-level="critical"] .value { color: var(--crit); }
.tile .limits { font-size: 11px; color: var(--faint); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile svg { display: block; width: 100%; height: 10px; }
.section-head { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; margin-bottom: 4px; }
.section-head h3 { margin: 0; font-size: 12.5px; font-weight: 600; color: var(--muted); }
.section-head h3 span { font-weight: 450; color: var(--faint); }
.legend { display: flex; gap: 14px; font-size: 11.5px; color: var(--muted); flex-wrap: wrap; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.legend i { display: inline-block; width: 14px; height: 0; border-top: 2px solid; }
.legend .ref i { border-color: var(--ref); height: 8px; background: var(--ref-fill); border-top-width: 2px; }
.legend .win i { border-color: var(--win); }
.legend .warn i { border-color: var(--warn); border-top-style: dashed; }
.legend .crit i { border-color: var(--crit); border-top-style: dashed; }
.marginals { display: grid; gap: 4px 14px; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); }
.marginal .dim { font-size: 11.5px; color: var(--muted); margin: 2px 0 0 2px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chart { position: relative; min-width: 0; }
.chart svg { display: block; width: 100%; overflow: visible; }
.more { font-size: 12px; color: var(--muted); margin-top: 4px; }
.waiting {
  display: flex; align-items: center; justify-content: center; text-align: center;
  min-height: 120px; border: 1px dashed var(--line); border-radius: 9px;
  color: var(--muted); font-size: 13px; padding: 12px;
}
.progress { width: 60%; max-width: 260px; height: 4px; background: var(--grid); border-radius: 2px; margin: 10px auto 0; overflow: hidden; }
.progress > div { height: 100%; background: var(--idle); border-radius: 2px; }
.meta { display: flex; flex-wrap: wrap; gap: 4px 16px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
.meta b { color: var(--fg); font-weight: 550; }
.threshold-notes { color: var(--warn); font-size: 12px; margin-top: 6px; }
.moves { margin: 0; padding-left: 1.2em; font-size: 13px; }
.moves .sub { color: var(--muted); }
.tip {
  position: absolute; pointer-events: none; z-index: 1;
  background: var(--card); border: 1px solid var(--line); border-radius: 7px;
  padding: 5px 8px; font-size: 11.5px; white-space: nowrap; box-shadow: 0 4px 14px rgba(0, 0, 0, 0.12);
}
.tip .t { color: var(--muted); }
/* chart ink */
.axis text, .ylab { fill: var(--faint); font-size: 10.5px; }
.axis line, .axis path { stroke: var(--line); }
.gridline { stroke: var(--grid); }
.ref-area { fill: var(--ref-fill); stroke: none; }
.ref-line { fill: none; stroke: var(--ref); stroke-width: 1.5; }
.win-line { fill: none; stroke: var(--win); stroke-width: 2; stroke-linejoin: round; }
.win-band { fill: var(--win-band); stroke: none; }
.win-dot { fill: var(--win); stroke: var(--card); stroke-width: 2; }
.thr-warning { stroke: var(--warn); stroke-dasharray: 5 4; stroke-width: 1.25; }
.thr-critical { stroke: var(--crit); stroke-dasharray: 5 4; stroke-width: 1.25; }
.thr-label-warning { fill: var(--warn); font-size: 10.5px; }
.thr-label-critical { fill: var(--crit); font-size: 10.5px; }
.zone-warning { fill: var(--warn-zone); }
.zone-critical { fill: var(--crit-zone); }
.cross { stroke: var(--faint); stroke-width: 1; }
.bar-track { fill: var(--grid); }
.bar-fill { fill: var(--win); }
.bar-err { stroke: var(--fg); stroke-width: 1.25; opacity: 0.55; }
.bar-tick-warning { fill: var(--warn); }
.bar-tick-critical { fill: var(--crit); }
.tile[data-level="warning"] .bar-fill { fill: var(--warn); }
.tile[data-level="critical"] .bar-fill { fill: var(--crit); }
/* operator controls */
.badge.muted { --state: var(--muted); }
.card[data-state="muted"] { --state: var(--muted); }
.summary .n-muted b { color: var(--muted); }
.card[data-muted="true"]::before { background: repeating-linear-gradient(180deg, var(--state, var(--idle)) 0 6px, transparent 6px 10px); }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-top: -4px; }
.action, .dialog-buttons button {
  appearance: none; font: inherit; font-size: 12.5px; font-weight: 550; cursor: pointer;
  color: var(--fg); background: var(--tile); border: 1px solid var(--line); border-radius: 7px; padding: 4px 11px;
}
.action:hover, .dialog-buttons button:hover { border-color: var(--faint); }
.action:focus-visible, .dialog-buttons button:focus-visible, .op-dialog input:focus-visible { outline: 2px solid var(--win); outline-offset: 1px; }
.notice { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
.notice[data-level="ok"] { color: var(--ok); }
.notice[data-level="error"] { color: var(--crit); }
.op-dialog {
  background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 12px;
  padding: 18px 20px 16px; width: min(92vw, 440px); box-shadow: 0 12px 40px rgba(0, 0, 0, 0.25);
}
.op-dialog::backdrop { background: rgba(10, 14, 20, 0.45); }
.op-dialog h2 { margin: 0 0 6px; font-size: 16px; font-weight: 650; overflow-wrap: anywhere; }
.op-dialog p { margin: 0 0 12px; color: var(--muted); font-size: 13px; }
.op-dialog label { display: flex; flex-direction: column; gap: 4px; font-size: 12.5px; font-weight: 550; margin-bottom: 4px; }
.op-dialog label[hidden] { display: none; }
.op-dialog input {
  font: inherit; font-weight: 450; color: var(--fg); background: var(--bg);
  border: 1px solid var(--line); border-radius: 7px; padding: 6px 9px;
}
.op-dialog .hint { font-size: 11.5px; font-weight: 450; color: var(--faint); margin: 0 0 12px; }
.dialog-buttons { display: flex; justify-content: flex-end; gap: 8px; margin-top: 8px; }
.dialog-buttons button[type="submit"] { background: var(--win); border-color: var(--win); color: #fff; }
.foot {
  display: flex; justify-content: space-between; gap: 16px; flex-wrap: wrap;
  color: var(--faint); font-size: 12px; padding: 14px 28px 26px; max-width: 1800px; margin: 0 auto;
}
@media (max-width: 640px) {
  .top { padding: 10px 14px; gap: 4px 12px; flex-wrap: wrap; justify-content: space-between; }
  .summary { order: 3; flex-basis: 100%; gap: 4px 12px; font-size: 12.5px; }
  .grid { padding: 14px; gap: 14px; }
  .card { padding: 14px 14px 12px; }
  .tiles { gap: 6px; }
  .tile { padding: 8px 8px 7px; }
  .tile .value { font-size: 16px; }
  .tile .value small { display: block; margin: 0; }
  .tile .limits { white-space: normal; }
}
`;
