/* doublet's renderer, shared by the page of `doublet serve` and the static report of `doublet report`.
 *
 * Document texts and ids are untrusted. They reach the DOM only as text nodes (textContent), never as HTML,
 * attribute values that a browser interprets (href, src, on*), or style. Ids that go into a URL go through
 * URLSearchParams / encodeURIComponent. Offsets from doublet are Python str indices (code points); they are
 * mapped to JavaScript's UTF-16 indices before slicing, so text after an emoji is highlighted where it is.
 */
"use strict";

var Doublet = (function () {
  /** An element with a class and children (strings become text nodes). */
  function el(tag, cls, children) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    });
    return node;
  }

  /** A function from code-point offsets (Python) to UTF-16 offsets (JavaScript) in `text`. */
  function offsetMap(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) return function (k) { return k; };
    var map = [];
    var i = 0;
    for (var cp = 0; i < text.length; cp++) {
      map.push(i);
      var c = text.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
    }
    map.push(text.length);
    return function (k) { return map[Math.max(0, Math.min(k, map.length - 1))]; };
  }

  function pct(x) { return (100 * x).toFixed(1) + " %"; }
  function num(x) { return Number(x).toFixed(3); }

  /**
   * `text` in a <pre>, with the spans [{start, end, n}] (code points) as <mark data-passage=n>.
   * Overlapping spans are clipped so that every character appears once. Optional `muted` spans
   * [{start, end, rule}] (template words: not compared) outside the marks are drawn as
   * <span class="template"> with the rule as a tooltip.
   */
  function highlighted(text, spans, side, muted) {
    var pre = el("pre", "doc-text");
    var at = offsetMap(text);
    var sorted = spans.slice().sort(function (a, b) { return a.start - b.start || a.end - b.end; });
    var quiet = (muted || []).map(function (t) { return {start: at(t.start), end: at(t.end), rule: t.rule}; })
      .sort(function (a, b) { return a.start - b.start; });
    var cursor = 0;
    function plain(from, to) {  // text[from:to], template words muted
      quiet.forEach(function (t) {
        var a = Math.max(t.start, from), b = Math.min(t.end, to);
        if (b <= a) return;
        if (a > from) pre.appendChild(document.createTextNode(text.slice(from, a)));
        var span = el("span", "template", [text.slice(a, b)]);
        span.title = "template (" + t.rule + " rule): not compared";
        pre.appendChild(span);
        from = b;
      });
      if (to > from) pre.appendChild(document.createTextNode(text.slice(from, to)));
    }
    sorted.forEach(function (s) {
      var start = Math.max(at(s.start), cursor);
      var end = Math.min(at(s.end), text.length);
      if (end <= start) return;
      if (start > cursor) plain(cursor, start);
      var mark = el("mark", "passage p" + (s.n % 6), [text.slice(start, end)]);
      mark.dataset.passage = String(s.n);
      mark.dataset.side = side;
      mark.title = "passage " + (s.n + 1);
      pre.appendChild(mark);
      cursor = end;
    });
    if (cursor < text.length) plain(cursor, text.length);
    return pre;
  }

  /**
   * Two texts side by side with their shared passages highlighted in both.
   * left/right: {title, text, note, templates}; passages: [[leftStart, leftEnd, rightStart, rightEnd], ...];
   * templates (optional): [{start, end, rule}], the text's template words, drawn muted.
   * Clicking a passage scrolls the other pane to its counterpart.
   */
  function sideBySide(left, right, passages) {
    var ls = passages.map(function (p, n) { return {start: p[0], end: p[1], n: n}; });
    var rs = passages.map(function (p, n) { return {start: p[2], end: p[3], n: n}; });
    var panes = [pane(left, ls, "left"), pane(right, rs, "right")];
    var box = el("div", "compare", panes);
    box.addEventListener("click", function (ev) {
      var mark = ev.target.closest ? ev.target.closest("mark.passage") : null;
      if (!mark) return;
      var other = mark.dataset.side === "left" ? panes[1] : panes[0];
      var twin = other.querySelector('mark.passage[data-passage="' + Number(mark.dataset.passage) + '"]');
      if (!twin) return;
      twin.scrollIntoView({block: "center", behavior: "smooth"});
      twin.classList.add("flash");
      setTimeout(function () { twin.classList.remove("flash"); }, 900);
    });
    return box;
  }

  function pane(doc, spans, side) {
    var chars = Array.from(doc.text).length;
    var t = doc.templates || [];
    var head = el("div", "pane-head", [el("strong", "doc-id", [doc.title]),
      el("span", "muted", [" · " + chars.toLocaleString() + " characters · " + spans.length + " passage" +
        (spans.length === 1 ? "" : "s") + (t.length ? " · " + t.length + " template block" +
        (t.length === 1 ? "" : "s") + " (grey: not compared)" : "") + (doc.note ? " · " + doc.note : "")])]);
    return el("div", "pane pane-" + side, [head, highlighted(doc.text, spans, side, t)]);
  }

  /** "reuse (light) · Jaccard 0.256 · 55.6 % of A in B · 32.2 % of B in A" as an element (level: verbatim,
   * light or heavy, or none). */
  function scores(kind, jaccard, cAB, cBA, aName, bName, level) {
    return el("span", "scores", [el("span", "kind kind-" + (kind === "near-duplicate" ? "dup" : "reuse"), [kind]),
      (level ? " (" + level + ")" : "") + " · Jaccard " + num(jaccard) + " · " + pct(cAB) + " of " + aName +
      " in " + bName + " · " + pct(cBA) + " of " + bName + " in " + aName]);
  }

  /** Passages of a pair (a/b offsets) as [[aStart, aEnd, bStart, bEnd], ...]. */
  function pairPassages(pair) {
    return pair.passages.map(function (p) { return [p.a_start, p.a_end, p.b_start, p.b_end]; });
  }

  /** Template blocks (boilerplate.jsonl rows {rule, documents, example, text}) as a list. */
  function templateList(blocks) {
    return el("ol", "templates", blocks.map(function (b) {
      var pre = el("pre", "doc-text", [b.text]);
      pre.title = "template (" + b.rule + " rule)";
      return el("li", "template-block", [el("span", "kind", [b.rule]), " · in " +
        Number(b.documents).toLocaleString() + " document" + (b.documents === 1 ? "" : "s") + " · e.g. ",
        el("span", "doc-id", [b.example]), pre]);
    }));
  }

  /** "1,234 shape, 56 frequency" from a {rule: count} object (rules with none left out). */
  function ruleCounts(byRule) {
    return Object.keys(byRule || {}).filter(function (r) { return byRule[r]; }).map(function (r) {
      return Number(byRule[r]).toLocaleString() + " " + r;
    }).join(", ");
  }

  /** Remove every child of a node. */
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  return {el: el, clear: clear, highlighted: highlighted, sideBySide: sideBySide, scores: scores,
          pairPassages: pairPassages, offsetMap: offsetMap, pct: pct, num: num, templateList: templateList,
          ruleCounts: ruleCounts};
})();
