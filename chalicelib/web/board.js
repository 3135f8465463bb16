(function () {
  "use strict";
  // Draws the board's trend charts as inline SVG from the JSON embedded in the page.
  // Text goes in through textContent only: nothing from the data is ever parsed as HTML.
  var SVG = "http://www.w3.org/2000/svg";
  var W = 340, H = 150, LEFT = 48, RIGHT = 8, TOP = 10, BOTTOM = 22;

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

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function scale(points) {
    var values = points.map(function (p) { return p.y; });
    var lo = Math.min(0, Math.min.apply(null, values));
    var hi = Math.max.apply(null, values);
    if (hi <= lo) { hi = lo + 1; }
    var n = Math.max(points.length - 1, 1), plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
    return {
      lo: lo, hi: hi,
      x: function (i) { return LEFT + (points.length === 1 ? plotW / 2 : plotW * i / n); },
      band: function (i) { return LEFT + plotW * (i + 0.5) / points.length; },  // the centre of day i's bar
      bandWidth: Math.max(plotW / points.length - 2, 1),
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

  // Axis labels are short: whole yuan, thousands as k.
  function axisLabel(format, v) {
    if (format !== "fen") { return (FORMATS[format] || FORMATS.count)(v); }
    var yuan = Math.round(v / 100);
    return "¥" + (Math.abs(yuan) >= 10000 ? Math.round(yuan / 1000) + "k" : String(yuan));
  }

  function axes(svg, s, format, first, last) {
    [s.lo, (s.lo + s.hi) / 2, s.hi].forEach(function (v) {
      var y = s.y(v);
      svg.appendChild(el("line", {"class": "grid", x1: LEFT, x2: W - RIGHT, y1: y, y2: y}));
      svg.appendChild(el("text", {"class": "ylabel", x: LEFT - 4, y: y + 4, "text-anchor": "end"}, axisLabel(format, v)));
    });
    svg.appendChild(el("text", {"class": "xlabel", x: LEFT, y: H - 6}, first));
    svg.appendChild(el("text", {"class": "xlabel", x: W - RIGHT, y: H - 6, "text-anchor": "end"}, last));
  }

  function chart(spec, days) {
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
    if (!points.length) {
      var empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "no data in this period";
      figure.appendChild(empty);
      return figure;
    }
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.title});
    var s = scale(days.map(function (d, i) { return {i: i, y: typeof d[spec.field] === "number" ? d[spec.field] : 0}; }));
    axes(svg, s, spec.format, days[0].date.slice(5), days[days.length - 1].date.slice(5));
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
    figure.appendChild(svg);
    var latest = document.createElement("p");
    latest.className = "latest";
    latest.textContent = "latest " + points[points.length - 1].x + ": " + fmt(points[points.length - 1].y);
    figure.appendChild(latest);
    return figure;
  }

  var data = JSON.parse(document.getElementById("board-data").textContent);
  var target = document.getElementById("charts");
  data.charts.forEach(function (spec) { target.appendChild(chart(spec, data.days)); });
  document.body.setAttribute("data-rendered", String(data.charts.length));
}());
