(function () {
  "use strict";
  // Draws the board's trend charts as inline SVG from the JSON embedded in the page.
  // Text goes in through textContent only: nothing from the data is ever parsed as HTML.
  var SVG = "http://www.w3.org/2000/svg";
  var W = 340, H = 150, RIGHT = 8, TOP = 12, BOTTOM = 22, GAP = 4, EDGE = 2;
  var MAX_INTERVALS = 4;  // at most about five ticks on a 150-unit-high chart

  function pad2(n) { return (n < 10 ? "0" : "") + n; }

  // Integers in, text out: fen as yuan, basis points as percent, days with one decimal.
  var FORMATS = {
    fen: function (v) {
      var sign = v < 0 ? "-" : "", a = Math.abs(Math.round(v));
      return sign + "¥" + Math.floor(a / 100).toLocaleString("en-US") + "." + pad2(a % 100);
    },
    bp: function (v) {
      var sign = v < 0 ? "-" : "", a = Math.abs(Math.round(v));
      return sign + Math.floor(a / 100) + "." + pad2(a % 100) + "%";
    },
    count: function (v) { return Math.round(v).toLocaleString("en-US"); }
  };

  // How an axis shows a format's integers: value / unit, with a prefix or suffix; the range
  // when every value is 0 (a flat series elsewhere is drawn against 0, see ticks()).
  var AXES = {
    fen: {unit: 100, prefix: "¥", suffix: "", abbreviate: true, zeroSpan: 100},     // ¥0 – ¥1
    bp: {unit: 100, prefix: "", suffix: "%", abbreviate: false, zeroSpan: 100},     // 0% – 1%
    count: {unit: 1, prefix: "", suffix: "", abbreviate: true, zeroSpan: 4}         // 0 – 4
  };
  var SHORT = [[1e9, "B"], [1e6, "M"], [1e3, "k"]];

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // 1, 2 or 5 times a power of ten, near x (Heckbert's "nice numbers"); never below 1.
  function nice(x, round) {
    if (!(x > 1)) { return 1; }
    var power = Math.pow(10, Math.floor(Math.log10(x))), f = x / power, n;
    if (round) { n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10; } else { n = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10; }
    return n * power;
  }

  // Ticks for values that are integers of the format (fen, basis points, counts): whole multiples
  // of a nice step of at least one unit, from at or below min(0, values) to at or above
  // max(0, values). Integers all the way, so no two ticks can print alike for float noise.
  function ticks(values, format) {
    var lo = Math.min(0, Math.min.apply(null, values)), hi = Math.max(0, Math.max.apply(null, values));
    if (hi === lo) { hi = lo + (AXES[format] || AXES.count).zeroSpan; }
    var step = nice(nice(hi - lo, false) / MAX_INTERVALS, true);
    var out = [];
    for (var k = Math.floor(lo / step); k <= Math.ceil(hi / step); k++) { out.push(k * step); }
    if (out.length < 3) { out.push(out[out.length - 1] + step); }  // a tiny flat series: one step above it
    return {values: out, step: step};
  }

  // Decimals that show ``x`` (a step, so 1, 2 or 5 times a power of ten) exactly.
  function decimals(x) {
    var d = 0;
    while (d < 6 && Math.abs(Math.round(x * Math.pow(10, d)) - x * Math.pow(10, d)) > 1e-9 * Math.pow(10, d)) { d++; }
    return d;
  }

  // Tick labels: every tick printed with the decimals its step needs (so they are distinct), 0 as
  // a plain 0, large yuan and counts abbreviated (¥15M, 100M), thousands grouped otherwise.
  function tickLabels(t, format) {
    var axis = AXES[format] || AXES.count;
    var top = Math.max(Math.abs(t.values[0]), Math.abs(t.values[t.values.length - 1])) / axis.unit;
    var short = [1, ""];
    if (axis.abbreviate && top >= 10000) {
      short = SHORT.filter(function (s) { return top >= s[0]; })[0];
    }
    var digits = decimals(t.step / axis.unit / short[0]);
    return t.values.map(function (v) {
      if (v === 0) { return axis.prefix + "0" + axis.suffix; }
      var shown = Math.abs(v) / axis.unit / short[0];
      var text = shown.toLocaleString("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
      return (v < 0 ? "-" : "") + axis.prefix + text + short[1] + axis.suffix;
    });
  }

  // The widest label's width in the chart's units: measured once drawn, else estimated.
  function widest(labels) {
    return labels.reduce(function (w, node) {
      var measured = 0;
      try { measured = node.getBBox().width; } catch (e) { measured = 0; }
      return Math.max(w, measured || node.textContent.length * 6.5);
    }, 0);
  }

  function scale(count, lo, hi, left) {
    var n = Math.max(count - 1, 1), plotW = W - left - RIGHT, plotH = H - TOP - BOTTOM;
    return {
      lo: lo, hi: hi, left: left,
      x: function (i) { return left + (count === 1 ? plotW / 2 : plotW * i / n); },
      band: function (i) { return left + plotW * (i + 0.5) / count; },  // the centre of day i's bar
      bandWidth: Math.max(plotW / count - 2, 1),
      y: function (v) { return TOP + plotH * (1 - (v - lo) / (hi - lo)); }
    };
  }

  function segments(points) {
    var runs = [];
    points.forEach(function (p, k) {
      if (k === 0 || p.i !== points[k - 1].i + 1) { runs.push([]); }
      runs[runs.length - 1].push(p);
    });
    return runs;
  }

  // The y axis first (its labels measured, and the plot starting right of the widest), then
  // the grid lines and the first and last day under the plot. Returns the scale to draw with.
  function axes(svg, values, count, format, first, last) {
    var t = ticks(values, format), texts = tickLabels(t, format);
    var labels = texts.map(function (text) {
      return svg.appendChild(el("text", {"class": "ylabel", "text-anchor": "end", x: 0, y: 0}, text));
    });
    var left = Math.ceil(EDGE + widest(labels) + GAP);
    var s = scale(count, t.values[0], t.values[t.values.length - 1], left);
    t.values.forEach(function (v, k) {
      var y = s.y(v);
      svg.insertBefore(el("line", {"class": "grid", x1: left, x2: W - RIGHT, y1: y, y2: y}), labels[0]);
      labels[k].setAttribute("x", left - GAP);
      labels[k].setAttribute("y", y + 3.5);
    });
    svg.appendChild(el("text", {"class": "xlabel", x: left, y: H - 6}, first));
    svg.appendChild(el("text", {"class": "xlabel", x: W - RIGHT, y: H - 6, "text-anchor": "end"}, last));
    return s;
  }

  // Adds the chart of ``spec.field`` to ``target``: in the page before drawing, so that the
  // axis labels can be measured.
  function chart(target, spec, days) {
    var fmt = FORMATS[spec.format] || FORMATS.count;
    var points = [];
    days.forEach(function (day, i) {
      var v = day[spec.field];
      if (typeof v === "number" && isFinite(v)) { points.push({i: i, x: day.date, y: v}); }
    });
    var figure = document.createElement("figure");
    figure.className = "chart";
    figure.setAttribute("data-field", spec.field);
    var caption = document.createElement("figcaption");
    caption.textContent = spec.title;
    figure.appendChild(caption);
    target.appendChild(figure);
    if (!points.length) {
      var empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "no data in this period";
      figure.appendChild(empty);
      return;
    }
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.title});
    figure.appendChild(svg);
    var s = axes(svg, points.map(function (p) { return p.y; }), days.length, spec.format,
                 days[0].date.slice(5), days[days.length - 1].date.slice(5));
    if (spec.kind === "bar") {
      points.forEach(function (p) {
        var y = s.y(Math.max(p.y, 0)), base = s.y(Math.min(p.y, 0));
        var bar = el("rect", {"class": "point bar", x: s.band(p.i) - s.bandWidth / 2, y: y, width: s.bandWidth,
                              height: Math.max(base - y, 0.5)});
        bar.appendChild(el("title", {}, p.x + ": " + fmt(p.y)));
        svg.appendChild(bar);
      });
    } else {
      segments(points).forEach(function (run) {  // a day without a row breaks the line
        svg.appendChild(el("polyline", {"class": "line", points: run.map(function (p) {
          return s.x(p.i).toFixed(1) + "," + s.y(p.y).toFixed(1);
        }).join(" ")}));
      });
      points.forEach(function (p) {
        var dot = el("circle", {"class": "point", cx: s.x(p.i), cy: s.y(p.y), r: 2.5});
        dot.appendChild(el("title", {}, p.x + ": " + fmt(p.y)));
        svg.appendChild(dot);
      });
    }
    var latest = document.createElement("p");
    latest.className = "latest";
    latest.textContent = "latest " + points[points.length - 1].x + ": " + fmt(points[points.length - 1].y);
    figure.appendChild(latest);
  }

  var data = JSON.parse(document.getElementById("board-data").textContent);
  var target = document.getElementById("charts");
  data.charts.forEach(function (spec) { chart(target, spec, data.days); });
  document.body.setAttribute("data-rendered", String(data.charts.length));
}());
