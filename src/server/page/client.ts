/**
 * The status page's script, served as /assets/app.js. Plain ES2017 for any browser, no
 * dependencies: it polls /api/streams and draws every chart as inline SVG. The pure helpers
 * (mixture marginals, ticks, formatting) are returned as `KlaxonPage` so a unit test can run
 * them in node; the DOM part starts only where there is a document.
 *
 * The operator buttons (re-baseline, mute for an hour, unmute) call the mutating API with the
 * token as a bearer header. The page asks for the token once, in its own dialog (a password
 * field, not window.prompt), and keeps it in sessionStorage: this tab only, gone when it closes.
 * A 401 or 403 forgets it, so the next click asks again.
 *
 * Kept inside String.raw: no backticks and no dollar-brace in the script below.
 */
export const CLIENT_JS = String.raw`'use strict';
var KlaxonPage = (function () {
  var SVGNS = 'http://www.w3.org/2000/svg';
  var MEASURES = ['kl_ref_win', 'kl_win_ref', 'js'];
  var LABELS = { kl_ref_win: 'KL(ref \u2016 win)', kl_win_ref: 'KL(win \u2016 ref)', js: 'Jensen\u2013Shannon' };
  var SHORT = { kl_ref_win: 'KL(ref\u2016win)', kl_win_ref: 'KL(win\u2016ref)', js: 'JS' };
  var POLL_MS = 5000;
  var MAX_MARGINALS = 12;
  var CURVE_POINTS = 160;
  var SQRT_2PI = Math.sqrt(2 * Math.PI);

  // ---- mixture marginals: the marginal of a Gaussian mixture on one coordinate is the
  // mixture of the components' 1-D marginals, whatever the covariance type.

  function variance(model, c, i) {
    var cov = model.covariances;
    switch (model.covariance_type || 'full') {
      case 'full': return cov[c][i][i];
      case 'tied': return cov[i][i];
      case 'diag': return cov[c][i];
      case 'spherical': return cov[c];
    }
    return NaN;
  }

  function marginal(model, i) {
    var out = { weights: [], means: [], sds: [] };
    for (var c = 0; c < model.weights.length; c++) {
      out.weights.push(model.weights[c]);
      out.means.push(model.means[c][i]);
      out.sds.push(Math.sqrt(variance(model, c, i)));
    }
    return out;
  }

  function pdf(m, x) {
    var p = 0;
    for (var c = 0; c < m.weights.length; c++) {
      var z = (x - m.means[c]) / m.sds[c];
      p += m.weights[c] * Math.exp(-0.5 * z * z) / (m.sds[c] * SQRT_2PI);
    }
    return p;
  }

  /** A range holding every component that carries weight, to four standard deviations. */
  function support(margs) {
    var lo = Infinity, hi = -Infinity;
    margs.forEach(function (m) {
      for (var c = 0; c < m.weights.length; c++) {
        if (!(m.weights[c] > 1e-4) || !isFinite(m.means[c]) || !isFinite(m.sds[c])) continue;
        lo = Math.min(lo, m.means[c] - 4 * m.sds[c]);
        hi = Math.max(hi, m.means[c] + 4 * m.sds[c]);
      }
    });
    if (!(hi > lo)) { lo = -1; hi = 1; }
    return [lo, hi];
  }

  function densityCurves(reference, window, i, n) {
    var margs = [];
    var ref = reference ? marginal(reference, i) : null;
    var win = window ? marginal(window, i) : null;
    if (ref) margs.push(ref);
    if (win) margs.push(win);
    var r = support(margs);
    var xs = [];
    for (var j = 0; j < n; j++) xs.push(r[0] + (r[1] - r[0]) * j / (n - 1));
    return {
      lo: r[0], hi: r[1], xs: xs,
      reference: ref ? xs.map(function (x) { return pdf(ref, x); }) : null,
      window: win ? xs.map(function (x) { return pdf(win, x); }) : null
    };
  }

  // ---- scales and formatting

  function niceStep(span, count) {
    var raw = span / Math.max(1, count);
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  }

  function niceTicks(lo, hi, count) {
    if (!(hi > lo) || !isFinite(lo) || !isFinite(hi)) return [];
    var step = niceStep(hi - lo, count);
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '\u2014';
    if (v === 0) return '0';
    var a = Math.abs(v);
    if (a >= 1e6 || a < 1e-4) return v.toExponential(1);
    if (a >= 1000) return Math.round(v).toLocaleString('en-US');
    return String(Number(v.toPrecision(digits || 3)));
  }

  function fmtCount(n) {
    return n === null || n === undefined ? '\u2014' : Math.round(n).toLocaleString('en-US');
  }

  function pad2(n) { return (n < 10 ? '0' : '') + n; }

  function clock(ms, seconds) {
    var d = new Date(ms);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + (seconds ? ':' + pad2(d.getSeconds()) : '');
  }

  function ago(ms) {
    var s = Math.round(ms / 1000);
    if (s < 2) return 'just now';
    if (s < 90) return s + ' s ago';
    var m = Math.round(s / 60);
    if (m < 90) return m + ' min ago';
    var h = Math.round(m / 60);
    if (h < 48) return h + ' h ago';
    return Math.round(h / 24) + ' d ago';
  }

  var TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

  function timeTicks(t0, t1, count) {
    var span = (t1 - t0) / 1000;
    var step = TIME_STEPS[TIME_STEPS.length - 1];
    for (var i = 0; i < TIME_STEPS.length; i++) if (span / TIME_STEPS[i] <= count) { step = TIME_STEPS[i]; break; }
    var ms = step * 1000;
    var out = [];
    // Align to the local clock, so labels land on round minutes and hours.
    var offset = new Date(t0).getTimezoneOffset() * 60000;
    for (var t = Math.ceil((t0 - offset) / ms) * ms + offset; t <= t1; t += ms) out.push(t);
    return { ticks: out, seconds: step < 60 };
  }

  // ---- stream state

  /** When a mute ends, as the page says it: a clock time today, with the date otherwise. */
  function until(ms, nowMs) {
    var d = new Date(ms), n = new Date(nowMs);
    var sameDay = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
    return (sameDay ? '' : d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ') + clock(ms);
  }

  function streamState(s) {
    if (!s.ready) return s.phase === 'collecting_reference' ? 'collecting' : 'warming';
    // Not "no drift": a muted stream's alerts are held off, so the page cannot say there is none.
    if (s.muted) return 'muted';
    if (s.alert && s.alert.critical) return 'critical';
    if (s.alert && s.alert.warning) return 'warning';
    return 'ok';
  }

  // As the KlaxonStreamStale rule: no evaluation for three intervals although the window changed
  // after the last one. A quiet stream (no records since) keeps a current evaluation.
  function isStale(s, nowMs) {
    var last = s.lastEvaluation;
    var interval = s.evaluationIntervalSeconds;
    if (!s.ready || !last || !(interval > 0)) return false;
    if (s.windowChangedMs === null || s.windowChangedMs === undefined || s.windowChangedMs <= last.timestampMs) return false;
    return nowMs - last.timestampMs > 3 * interval * 1000;
  }

  var BADGE = {
    ok: 'no drift', warning: 'drift \u00b7 warning', critical: 'drift \u00b7 critical',
    warming: 'warming up', collecting: 'collecting reference'
  };

  function level(value, t) {
    if (!t || value === null || value === undefined) return 'none';
    if (t.critical !== null && t.critical !== undefined && value >= t.critical) return 'critical';
    if (t.warning !== null && t.warning !== undefined && value >= t.warning) return 'warning';
    return 'ok';
  }

  function defaultMeasure(s) {
    var t = s.thresholds || {};
    if (t.js) return 'js';
    for (var i = 0; i < MEASURES.length; i++) if (t[MEASURES[i]]) return MEASURES[i];
    return 'js';
  }

  var helpers = {
    marginal: marginal, pdf: pdf, densityCurves: densityCurves, niceTicks: niceTicks, timeTicks: timeTicks,
    fmt: fmt, fmtCount: fmtCount, ago: ago, until: until, streamState: streamState, isStale: isStale, level: level,
    defaultMeasure: defaultMeasure
  };
  if (typeof document === 'undefined') return helpers;

  // ---- DOM

  function append(el, children) {
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return el;
  }

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) if (attrs[k] !== null && attrs[k] !== undefined) el.setAttribute(k, attrs[k]);
    return append(el, children);
  }

  function sv(tag, attrs, children) {
    var el = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) if (attrs[k] !== null && attrs[k] !== undefined) el.setAttribute(k, attrs[k]);
    return append(el, children);
  }

  function r1(v) { return Math.round(v * 10) / 10; }

  /** An SVG path through the points, restarting after every gap (a null y). */
  function linePath(xs, ys) {
    var d = '', pen = false;
    for (var i = 0; i < xs.length; i++) {
      if (ys[i] === null || !isFinite(ys[i])) { pen = false; continue; }
      d += (pen ? 'L' : 'M') + r1(xs[i]) + ',' + r1(ys[i]);
      pen = true;
    }
    return d;
  }

  function tooltip(chart) {
    var tip = h('div', { class: 'tip', hidden: '' });
    chart.appendChild(tip);
    return {
      show: function (x, y, lines) {
        tip.replaceChildren();
        lines.forEach(function (l, i) { append(tip, [i ? h('br') : null, l]); });
        tip.hidden = false;
        var w = chart.clientWidth;
        var left = x + 12;
        if (left + tip.offsetWidth > w) left = x - 12 - tip.offsetWidth;
        tip.style.left = Math.max(0, left) + 'px';
        tip.style.top = Math.max(0, y - tip.offsetHeight - 6) + 'px';
      },
      hide: function () { tip.hidden = true; }
    };
  }

  function drawDensity(chart, s, dim, width, height) {
    var c = densityCurves(s.reference, s.window, dim, CURVE_POINTS);
    var p = { l: 4, r: 4, t: 6, b: 20 };
    var ymax = 0;
    [c.reference, c.window].forEach(function (ys) { if (ys) ys.forEach(function (y) { if (y > ymax) ymax = y; }); });
    ymax = ymax > 0 ? ymax * 1.08 : 1;
    var X = function (x) { return p.l + (x - c.lo) / (c.hi - c.lo) * (width - p.l - p.r); };
    var Y = function (y) { return p.t + (1 - y / ymax) * (height - p.t - p.b); };
    var px = c.xs.map(X);
    var svg = sv('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, 'data-chart': 'density', role: 'img',
      'aria-label': 'reference and window density of ' + (s.fields[dim] || 'dimension ' + (dim + 1)) });
    var axis = sv('g', { class: 'axis' });
    axis.appendChild(sv('line', { x1: p.l, x2: width - p.r, y1: Y(0), y2: Y(0) }));
    niceTicks(c.lo, c.hi, Math.max(3, Math.floor(width / 60))).forEach(function (t) {
      var x = r1(X(t));
      axis.appendChild(sv('line', { x1: x, x2: x, y1: Y(0), y2: Y(0) + 4 }));
      axis.appendChild(sv('text', { x: x, y: height - 4, 'text-anchor': 'middle' }, [fmt(t, 4)]));
    });
    svg.appendChild(axis);
    if (c.reference) {
      var ry = c.reference.map(Y);
      svg.appendChild(sv('path', { class: 'ref-area', 'data-series': 'reference-area',
        d: 'M' + r1(px[0]) + ',' + r1(Y(0)) + linePath(px, ry).replace(/^M/, 'L') + 'L' + r1(px[px.length - 1]) + ',' + r1(Y(0)) + 'Z' }));
      svg.appendChild(sv('path', { class: 'ref-line', 'data-series': 'reference', d: linePath(px, ry) }));
    }
    if (c.window) svg.appendChild(sv('path', { class: 'win-line', 'data-series': 'window', d: linePath(px, c.window.map(Y)) }));
    var cross = sv('line', { class: 'cross', y1: p.t, y2: Y(0), visibility: 'hidden' });
    svg.appendChild(cross);
    chart.appendChild(svg);
    var tip = tooltip(chart);
    svg.addEventListener('mousemove', function (e) {
      var box = svg.getBoundingClientRect();
      var x = e.clientX - box.left;
      var j = Math.max(0, Math.min(c.xs.length - 1, Math.round((x - p.l) / (width - p.l - p.r) * (c.xs.length - 1))));
      cross.setAttribute('x1', px[j]); cross.setAttribute('x2', px[j]); cross.setAttribute('visibility', 'visible');
      tip.show(px[j], e.clientY - box.top, [
        h('span', { class: 't' }, [(s.fields[dim] || 'x') + ' = ' + fmt(c.xs[j], 4)]),
        c.reference ? 'reference ' + fmt(c.reference[j], 3) : null,
        c.window ? 'window ' + fmt(c.window[j], 3) : null
      ].filter(Boolean));
    });
    svg.addEventListener('mouseleave', function () { cross.setAttribute('visibility', 'hidden'); tip.hide(); });
  }

  function drawHistory(chart, s, measure, width, height) {
    var pts = (s.history || []).filter(function (e) {
      var d = e.divergences && e.divergences[measure];
      return e.timestampMs !== null && d && d.value !== null;
    }).map(function (e) {
      var d = e.divergences[measure];
      return { t: e.timestampMs, v: d.value, se: d.stderr };
    });
    if (pts.length === 0) {
      chart.appendChild(h('div', { class: 'waiting' }, ['No evaluations yet']));
      return;
    }
    var thr = (s.thresholds || {})[measure] || {};
    var p = { l: 42, r: 70, t: 8, b: 20 };
    var t1 = pts[pts.length - 1].t;
    var t0 = Math.min(pts[0].t, t1 - 60000);
    var ymax = 0;
    pts.forEach(function (q) { ymax = Math.max(ymax, q.v + (q.se > 0 ? q.se : 0)); });
    ['warning', 'critical'].forEach(function (k) { if (thr[k] > 0) ymax = Math.max(ymax, thr[k] * 1.15); });
    if (!(ymax > 0)) ymax = 1e-3;
    var yt = niceTicks(0, ymax, Math.max(2, Math.floor(height / 40)));
    if (yt.length > 1 && yt[yt.length - 1] < ymax) ymax = yt[yt.length - 1] + (yt[1] - yt[0]);
    yt = niceTicks(0, ymax, Math.max(2, Math.floor(height / 40)));
    ymax = Math.max(ymax, yt[yt.length - 1]);
    var X = function (t) { return p.l + (t - t0) / (t1 - t0) * (width - p.l - p.r); };
    var Y = function (v) { return p.t + (1 - Math.max(0, v) / ymax) * (height - p.t - p.b); };
    var svg = sv('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, 'data-chart': 'history',
      'data-measure': measure, role: 'img', 'aria-label': LABELS[measure] + ' over time, in nats' });
    var right = width - p.r;
    // Alert zones behind everything.
    if (thr.warning > 0) {
      var wTop = thr.critical > thr.warning ? thr.critical : ymax;
      svg.appendChild(sv('rect', { class: 'zone-warning', x: p.l, width: right - p.l, y: Y(wTop), height: Y(thr.warning) - Y(wTop) }));
    }
    if (thr.critical > 0) svg.appendChild(sv('rect', { class: 'zone-critical', x: p.l, width: right - p.l, y: Y(ymax), height: Y(thr.critical) - Y(ymax) }));
    var axis = sv('g', { class: 'axis' });
    var step = yt.length > 1 ? yt[1] - yt[0] : ymax;
    yt.forEach(function (v) {
      var y = r1(Y(v));
      svg.appendChild(sv('line', { class: 'gridline', x1: p.l, x2: right, y1: y, y2: y }));
      axis.appendChild(sv('text', { x: p.l - 6, y: y + 3.5, 'text-anchor': 'end' }, [fmt(v, step < 0.01 ? 2 : 3)]));
    });
    axis.appendChild(sv('line', { x1: p.l, x2: right, y1: Y(0), y2: Y(0) }));
    var tt = timeTicks(t0, t1, Math.max(2, Math.floor((right - p.l) / 90)));
    tt.ticks.forEach(function (t) {
      var x = r1(X(t));
      axis.appendChild(sv('line', { x1: x, x2: x, y1: Y(0), y2: Y(0) + 4 }));
      axis.appendChild(sv('text', { x: x, y: height - 4, 'text-anchor': 'middle' }, [clock(t, tt.seconds)]));
    });
    svg.appendChild(axis);
    var xs = pts.map(function (q) { return X(q.t); });
    var upper = pts.map(function (q) { return Y(q.v + (q.se > 0 ? q.se : 0)); });
    var lower = pts.map(function (q) { return Y(q.v - (q.se > 0 ? q.se : 0)); });
    var band = linePath(xs, upper) + linePath(xs.slice().reverse(), lower.slice().reverse()).replace(/^M/, 'L') + 'Z';
    svg.appendChild(sv('path', { class: 'win-band', 'data-series': 'stderr', d: band }));
    ['warning', 'critical'].forEach(function (k) {
      if (!(thr[k] > 0)) return;
      var y = r1(Y(thr[k]));
      svg.appendChild(sv('line', { class: 'thr-' + k, 'data-threshold': k, x1: p.l, x2: right, y1: y, y2: y }));
      svg.appendChild(sv('text', { class: 'thr-label-' + k, x: right + 6, y: y + 3.5 }, [k + ' ' + fmt(thr[k], 3)]));
    });
    svg.appendChild(sv('path', { class: 'win-line', 'data-series': 'value', d: linePath(xs, pts.map(function (q) { return Y(q.v); })) }));
    var last = pts[pts.length - 1];
    svg.appendChild(sv('circle', { class: 'win-dot', cx: r1(X(last.t)), cy: r1(Y(last.v)), r: 3.5 }));
    var cross = sv('line', { class: 'cross', y1: p.t, y2: Y(0), visibility: 'hidden' });
    var dot = sv('circle', { class: 'win-dot', r: 3.5, visibility: 'hidden' });
    svg.appendChild(cross);
    svg.appendChild(dot);
    chart.appendChild(svg);
    var tip = tooltip(chart);
    svg.addEventListener('mousemove', function (e) {
      var box = svg.getBoundingClientRect();
      var x = e.clientX - box.left;
      var j = 0;
      for (var i = 1; i < xs.length; i++) if (Math.abs(xs[i] - x) < Math.abs(xs[j] - x)) j = i;
      var q = pts[j];
      cross.setAttribute('x1', xs[j]); cross.setAttribute('x2', xs[j]); cross.setAttribute('visibility', 'visible');
      dot.setAttribute('cx', xs[j]); dot.setAttribute('cy', Y(q.v)); dot.setAttribute('visibility', 'visible');
      tip.show(xs[j], Y(q.v), [h('span', { class: 't' }, [clock(q.t, true)]), fmt(q.v, 3) + ' \u00b1 ' + fmt(q.se, 2) + ' nats']);
    });
    svg.addEventListener('mouseleave', function () {
      cross.setAttribute('visibility', 'hidden'); dot.setAttribute('visibility', 'hidden'); tip.hide();
    });
  }

  /** The small bar under a tile: the value and its error bar against the thresholds. */
  function bar(est, thr) {
    var v = est && est.value !== null ? est.value : null;
    var se = est && est.stderr > 0 ? est.stderr : 0;
    var max = 0;
    if (v !== null) max = v + se;
    if (thr.critical > 0) max = Math.max(max, thr.critical * 1.25);
    else if (thr.warning > 0) max = Math.max(max, thr.warning * 1.6);
    if (!(max > 0)) max = 1;
    var X = function (x) { return Math.max(0, Math.min(100, x / max * 100)); };
    var svg = sv('svg', { viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
    // Without a threshold there is no scale that means anything: leave the row empty.
    if (!(thr.warning > 0) && !(thr.critical > 0)) return svg;
    svg.appendChild(sv('rect', { class: 'bar-track', x: 0, y: 3, width: 100, height: 4, rx: 0 }));
    if (v !== null) {
      svg.appendChild(sv('rect', { class: 'bar-fill', x: 0, y: 3, width: X(v), height: 4 }));
      if (se > 0) svg.appendChild(sv('line', { class: 'bar-err', x1: X(v - se), x2: X(v + se), y1: 5, y2: 5, 'vector-effect': 'non-scaling-stroke' }));
    }
    ['warning', 'critical'].forEach(function (k) {
      if (thr[k] > 0) svg.appendChild(sv('rect', { class: 'bar-tick-' + k, x: X(thr[k]) - 0.4, y: 0, width: 0.8, height: 10 }));
    });
    return svg;
  }

  // ---- page state and rendering

  var ui = { data: null, json: '', skewMs: 0, selected: {}, timer: 0, notices: {}, asking: null };

  function now() { return Date.now() + ui.skewMs; }

  // ---- operator actions

  var TOKEN_KEY = 'klaxon.apiToken';
  var NOTICE_MS = 15000;

  var ACTIONS = {
    rebaseline: {
      label: 'Re-baseline', method: 'POST', path: 'rebaseline', body: null, confirm: true,
      title: function (s) { return 'Re-baseline ' + s.name + '?'; },
      text: 'Its current window becomes the reference: divergences are measured against it from now on, and its alerts clear. This survives a restart.',
      pending: 're-baselining\u2026', done: 're-baselined: the current window is the new reference'
    },
    mute: {
      label: 'Mute 1 h', method: 'POST', path: 'mute', body: '{"minutes":60}',
      title: function (s) { return 'Mute ' + s.name + ' for one hour'; },
      text: 'Its divergences are still measured and exported, but it raises no alert until the mute ends.',
      pending: 'muting\u2026', done: 'muted for one hour'
    },
    unmute: {
      label: 'Unmute', method: 'DELETE', path: 'mute', body: null,
      title: function (s) { return 'Unmute ' + s.name; },
      text: 'Its alerts count again from now on.',
      pending: 'unmuting\u2026', done: 'unmuted'
    }
  };

  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  function storeToken(t) {
    try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off: ask each time */ }
  }

  function setNotice(name, lv, msg) {
    ui.notices[name] = { level: lv, text: msg, at: Date.now() };
    render(true);
  }

  function send(s, key) {
    var a = ACTIONS[key];
    var headers = { accept: 'application/json', authorization: 'Bearer ' + storedToken() };
    if (a.body) headers['content-type'] = 'application/json';
    setNotice(s.name, 'pending', a.pending);
    fetch('api/streams/' + encodeURIComponent(s.name) + '/' + a.path, { method: a.method, headers: headers, body: a.body, cache: 'no-store' })
      .then(function (res) { return res.text().then(function (t) { return { ok: res.ok, status: res.status, text: t }; }); })
      .then(function (r) {
        if (r.ok) {
          setNotice(s.name, 'ok', a.done);
          poll();
          return;
        }
        if (r.status === 401 || r.status === 403) storeToken('');
        setNotice(s.name, 'error', (r.text.trim().split('\n')[0] || 'HTTP ' + r.status));
      }, function () { setNotice(s.name, 'error', 'klaxon did not answer'); });
  }

  /** Asks to confirm, and for the token when there is none yet, in the page's own dialog. */
  function ask(s, key, needToken) {
    var a = ACTIONS[key];
    var dlg = document.getElementById('op-dialog');
    document.getElementById('op-title').textContent = a.title(s);
    document.getElementById('op-text').textContent = a.text;
    document.getElementById('op-token-row').hidden = !needToken;
    var input = document.getElementById('op-token');
    input.value = '';
    input.required = needToken;
    document.getElementById('op-confirm').textContent = a.label;
    ui.asking = { stream: s, key: key, needToken: needToken };
    if (typeof dlg.showModal === 'function') dlg.showModal(); else dlg.setAttribute('open', '');
    (needToken ? input : document.getElementById('op-confirm')).focus();
  }

  function act(s, key) {
    var needToken = !storedToken();
    if (ACTIONS[key].confirm || needToken) ask(s, key, needToken);
    else send(s, key);
  }

  function closeDialog() {
    var dlg = document.getElementById('op-dialog');
    if (typeof dlg.close === 'function') dlg.close(); else dlg.removeAttribute('open');
  }

  function setupDialog() {
    var form = document.getElementById('op-form');
    if (!form) return;
    form.addEventListener('submit', function (e) {
      // Never a real form submission: nothing navigates, nothing lands in a URL or history.
      e.preventDefault();
      var asking = ui.asking;
      if (!asking) { closeDialog(); return; }
      if (asking.needToken) {
        var token = document.getElementById('op-token').value.trim();
        if (!token) { document.getElementById('op-token').focus(); return; }
        storeToken(token);
      }
      ui.asking = null;
      document.getElementById('op-token').value = '';
      closeDialog();
      send(asking.stream, asking.key);
    });
    document.getElementById('op-cancel').addEventListener('click', function () {
      ui.asking = null;
      document.getElementById('op-token').value = '';
      closeDialog();
    });
    document.getElementById('op-dialog').addEventListener('cancel', function () { ui.asking = null; });
  }

  function actions(s) {
    var keys = ['rebaseline', s.muted ? 'unmute' : 'mute'];
    var row = h('div', { class: 'actions' }, keys.map(function (key) {
      var b = h('button', { type: 'button', class: 'action', 'data-action': key, 'data-key': JSON.stringify([s.name, 'action', key]) }, [ACTIONS[key].label]);
      b.addEventListener('click', function () { act(s, key); });
      return b;
    }));
    var n = ui.notices[s.name];
    if (n && (n.level !== 'ok' || Date.now() - n.at < NOTICE_MS)) {
      row.appendChild(h('span', { class: 'notice', role: 'status', 'data-level': n.level }, [n.text]));
    }
    return row;
  }

  function tile(s, m, selected) {
    var est = s.lastEvaluation && s.lastEvaluation.divergences[m];
    var thr = (s.thresholds || {})[m] || {};
    var lv = level(est ? est.value : null, thr);
    var limits = [];
    if (thr.warning !== undefined) limits.push('warn ' + fmt(thr.warning));
    if (thr.critical !== undefined) limits.push('crit ' + fmt(thr.critical));
    var b = h('button', { type: 'button', class: 'tile', 'data-measure': m, 'data-level': lv, 'data-key': JSON.stringify([s.name, m]),
      'aria-pressed': selected ? 'true' : 'false', title: LABELS[m] + (est ? ' \u00b7 ' + est.method : '') + ' \u2014 show its history' }, [
      h('span', { class: 'label' }, [SHORT[m]]),
      h('span', { class: 'value' }, [est ? fmt(est.value) : '\u2014', est ? h('small', null, ['\u00b1 ' + fmt(est.stderr, 2)]) : null]),
      bar(est, thr),
      h('span', { class: 'limits' }, [limits.length ? limits.join(' \u00b7 ') : 'no threshold'])
    ]);
    b.addEventListener('click', function () { ui.selected[s.name] = m; render(true); });
    return b;
  }

  function section(title, extra, body) {
    return h('section', null, [h('div', { class: 'section-head' }, [h('h3', null, title), extra]), body]);
  }

  function legend(items) {
    return h('div', { class: 'legend' }, items.map(function (it) { return h('span', { class: it[0] }, [h('i'), it[1]]); }));
  }

  function agoSpan(ts) { return h('b', { 'data-ago': ts }, [ago(now() - ts)]); }

  function card(s, draws) {
    var st = streamState(s);
    var measure = ui.selected[s.name] || defaultMeasure(s);
    var last = s.lastEvaluation;
    var interval = s.evaluationIntervalSeconds;
    var stale = isStale(s, now());
    var sub = [s.fields.join(', '), 'd = ' + s.dimension];
    if (s.topic) sub.push('topic ' + s.topic);
    var el = h('article', { class: 'card', 'data-stream': s.name, 'data-state': st, 'data-muted': s.muted ? 'true' : 'false' }, [
      h('div', { class: 'head' }, [
        h('div', { class: 'titles' }, [h('h2', { class: 'name' }, [s.name]), h('div', { class: 'sub' }, [sub.join(' \u00b7 ')])]),
        stale ? h('span', { class: 'badge stale', title: 'new records, but no evaluation for over three intervals' }, ['stale']) : null,
        s.muted ? h('span', { class: 'badge muted', 'data-badge': 'muted', title: 'alerts held off by an operator; divergences are still measured' },
          ['muted' + (s.mutedUntilMs ? ' until ' + until(s.mutedUntilMs, now()) : '')]) : null,
        st === 'muted' ? null : h('span', { class: 'badge', 'data-badge': st }, [BADGE[st]])
      ])
    ]);
    if (s.ready) el.appendChild(h('div', { class: 'tiles' }, MEASURES.map(function (m) { return tile(s, m, m === measure); })));
    else {
      var msg = s.phase === 'collecting_reference'
        ? 'Collecting the reference \u2014 ' + fmtCount(s.referenceSamples) + ' samples so far'
        : 'Reference fitted on ' + fmtCount(s.referenceSamples) + ' samples; filling the window \u2014 ' + fmtCount(s.windowSamples) + ' so far';
      el.appendChild(h('div', { class: 'waiting' }, [msg]));
    }
    if (s.reference || s.window) {
      var dims = Math.min(s.dimension, MAX_MARGINALS);
      var holder = h('div', { class: s.dimension > 1 ? 'marginals' : '' });
      for (var i = 0; i < dims; i++) {
        (function (i) {
          var chart = h('div', { class: 'chart', 'data-dim': i });
          var cell = s.dimension > 1 ? h('div', { class: 'marginal' }, [h('div', { class: 'dim' }, [s.fields[i] || 'x' + (i + 1)]), chart]) : chart;
          holder.appendChild(cell);
          draws.push(function () { drawDensity(chart, s, i, chart.clientWidth || 300, s.dimension > 1 ? 110 : 150); });
        })(i);
      }
      var items = [];
      if (s.reference) items.push(['ref', 'reference']);
      if (s.window) items.push(['win', 'window']);
      el.appendChild(section([s.dimension > 1 ? 'Marginal densities' : 'Density'], legend(items), h('div', null, [
        holder,
        s.dimension > MAX_MARGINALS ? h('div', { class: 'more' }, ['first ' + MAX_MARGINALS + ' of ' + s.dimension + ' dimensions']) : null
      ])));
    }
    if (s.ready) {
      var chart = h('div', { class: 'chart' });
      draws.push(function () { drawHistory(chart, s, measure, chart.clientWidth || 400, 150); });
      var thr = (s.thresholds || {})[measure] || {};
      var items2 = [['win', SHORT[measure] + ' \u00b1 se']];
      if (thr.warning !== undefined) items2.push(['warn', 'warning']);
      if (thr.critical !== undefined) items2.push(['crit', 'critical']);
      el.appendChild(section(['History \u00b7 ' + LABELS[measure], h('span', null, [' \u00b7 nats'])], legend(items2), chart));
      var moved = whatMoved(s);
      if (moved) el.appendChild(moved);
    }
    var meta = h('div', { class: 'meta' }, [
      h('span', null, ['window ', h('b', null, [fmtCount(s.windowSamples)])]),
      h('span', null, ['reference ', h('b', null, [fmtCount(s.referenceSamples)])]),
      h('span', null, ['records ', h('b', null, [fmtCount(s.recordsTotal)])])
    ]);
    if (last) meta.appendChild(h('span', null, ['evaluated ', agoSpan(last.timestampMs), interval ? ' \u00b7 every ' + fmt(interval) + ' s' : null]));
    if (last && last.divergences[measure]) meta.appendChild(h('span', null, ['method ', h('b', null, [last.divergences[measure].method])]));
    var pv = s.calibration && s.calibration.pValues ? s.calibration.pValues[measure] : undefined;
    if (pv !== undefined && pv !== null) meta.appendChild(h('span', { 'data-meta': 'pvalue', title: 'against the no-drift null of ' + s.calibration.replicates + ' bootstrap replicates' }, ['p ', h('b', null, [fmt(pv)])]));
    if (s.referenceTimestampMs) meta.appendChild(h('span', { 'data-meta': 'reference-set' }, ['reference set ', agoSpan(s.referenceTimestampMs)]));
    el.appendChild(meta);
    var notes = thresholdNotes(s);
    if (notes) el.appendChild(notes);
    el.appendChild(actions(s));
    return el;
  }

  /** What the no-drift null says of the thresholds: ones windows without drift reach, a warning above the critical. */
  function thresholdNotes(s) {
    var problems = s.thresholdProblems || [];
    if (problems.length === 0) return null;
    var lines = problems.map(function (p) {
      if (p.warningNats !== undefined && p.warningNats !== null) {
        return SHORT[p.measure] + ': warning ' + fmt(p.warningNats) + ' above critical ' + fmt(p.nats) + ' nats';
      }
      return SHORT[p.measure] + ' ' + p.severity + ' ' + fmt(p.nats) + ' nats: ' + Math.round(100 * p.noDriftShare) + '% of no-drift windows reach it';
    });
    return h('div', {
      class: 'threshold-notes',
      'data-meta': 'threshold-problems',
      title: 'From the no-drift null: these thresholds would alert without drift. Raise them, calibrate them, or give the window more records.'
    }, ['\u26a0 ' + lines.join(' \u00b7 ')]);
  }

  /** The components that account for the divergence (the view's whatMoved), the three largest. */
  function whatMoved(s) {
    var moves = (s.whatMoved || []).filter(function (m) { return m.kind !== 'unchanged' && m.contributionNats > 0.001; }).slice(0, 3);
    if (moves.length === 0) return null;
    var pct = function (w) { return Math.round(100 * w) + '%'; };
    var rows = moves.map(function (m) {
      var what = m.kind === 'mass_gained' ? 'new mass: window component ' + (m.window + 1) + ' (' + pct(m.weightWindow) + ')'
        : m.kind === 'mass_lost' ? 'mass lost: reference component ' + (m.reference + 1) + ' (' + pct(m.weightReference) + ')'
        : 'component ' + (m.reference + 1) + ' moved ' + fmt(m.meanShiftSd) + ' sd, weight ' + pct(m.weightReference) + ' \u2192 ' + pct(m.weightWindow);
      return h('li', { 'data-move': m.kind }, [what, h('span', { class: 'sub' }, [' \u00b7 ' + fmt(m.contributionNats) + ' nats'])]);
    });
    return section(['What moved'], null, h('ul', { class: 'moves' }, rows));
  }

  function summary(streams) {
    var n = { ok: 0, warning: 0, critical: 0, warming: 0, muted: 0 };
    streams.forEach(function (s) {
      var st = streamState(s);
      if (st !== 'muted') n[st === 'collecting' ? 'warming' : st]++;
      if (s.muted) n.muted++;
    });
    var parts = [
      h('span', null, [h('b', null, [streams.length]), streams.length === 1 ? ' stream' : ' streams']),
      h('span', { class: 'n-critical' }, [h('b', null, [n.critical]), ' critical']),
      h('span', { class: 'n-warning' }, [h('b', null, [n.warning]), ' warning']),
      h('span', null, [h('b', null, [n.ok]), ' without drift'])
    ];
    if (n.warming) parts.push(h('span', null, [h('b', null, [n.warming]), ' warming up']));
    if (n.muted) parts.push(h('span', { class: 'n-muted' }, [h('b', null, [n.muted]), ' muted']));
    document.getElementById('summary').replaceChildren.apply(document.getElementById('summary'), parts);
    document.title = (n.critical ? '\u25cf ' + n.critical + ' critical \u00b7 ' : n.warning ? '\u25cf ' + n.warning + ' warning \u00b7 ' : '') + 'klaxon';
  }

  function render(force) {
    var streams = ui.data;
    if (!streams) return;
    var main = document.getElementById('streams');
    var focused = document.activeElement && document.activeElement.getAttribute('data-key');
    summary(streams);
    if (streams.length === 0) {
      main.replaceChildren(h('p', { class: 'empty' }, ['No streams are configured.']));
      return;
    }
    var draws = [];
    main.replaceChildren.apply(main, streams.map(function (s) { return card(s, draws); }));
    // Charts are drawn at their laid-out pixel width, so text stays crisp at any size.
    draws.forEach(function (d) { d(); });
    if (focused) {
      var again = Array.prototype.find.call(main.querySelectorAll('[data-key]'), function (e) { return e.getAttribute('data-key') === focused; });
      if (again) again.focus();
    }
  }

  function refreshAgo() {
    Array.prototype.forEach.call(document.querySelectorAll('[data-ago]'), function (e) {
      e.textContent = ago(now() - Number(e.getAttribute('data-ago')));
    });
  }

  function setConn(state, text) {
    var c = document.getElementById('conn');
    c.setAttribute('data-state', state);
    document.getElementById('conn-text').textContent = text;
  }

  function poll() {
    clearTimeout(ui.timer);
    fetch('api/streams', { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        var date = Date.parse(res.headers.get('date') || '');
        // The Date header has one-second resolution: correct only a real clock difference.
        if (isFinite(date) && Math.abs(date - Date.now()) > 2000) ui.skewMs = date - Date.now();
        return res.text();
      })
      .then(function (body) {
        if (body !== ui.json) {
          ui.json = body;
          ui.data = JSON.parse(body);
          render();
        } else refreshAgo();
        setConn('live', 'live \u00b7 ' + clock(Date.now(), true));
      })
      .catch(function () { setConn('error', 'disconnected \u2014 retrying'); })
      .then(function () { ui.timer = setTimeout(poll, POLL_MS); });
  }

  function start() {
    var resizeTimer = 0;
    var lastWidth = window.innerWidth;
    window.addEventListener('resize', function () {
      if (window.innerWidth === lastWidth) return;
      lastWidth = window.innerWidth;
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { render(true); }, 120);
    });
    document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
    setupDialog();
    poll();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
  return helpers;
})();
`;
