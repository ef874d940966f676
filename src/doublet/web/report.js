/* The static report of `doublet report`: its data is the JSON block #doublet-data; render.js draws it.
 * Pairs come strongest first (sorted by doublet.show.strength) and are numbered from 1, as in the list.
 * Every document text and id goes into the DOM as text; the only URL state is "#pair=N" (a number, from 1). */
"use strict";

(function () {
  var D = Doublet;
  var data = JSON.parse(document.getElementById("doublet-data").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var pairsByCluster = {};
  var clusterOf = {};
  data.clusters.forEach(function (c) {
    pairsByCluster[c.cluster] = [];
    c.members.forEach(function (m) { clusterOf[m] = c.cluster; });
  });
  data.pairs.forEach(function (p, k) {
    var c = clusterOf[p.a];
    if (c !== undefined) pairsByCluster[c].push(k);
  });

  function overview() {
    var box = $("overview");
    var c = (data.summary && data.summary.counts) || {};
    var rows = [
      ["documents", c.documents], ["pairs", c.pairs], ["near-duplicate pairs", c.near_duplicate_pairs],
      ["reuse pairs", c.reuse_pairs], ["passages", c.passages], ["clusters with reuse", c.clusters_with_reuse],
      ["largest cluster", c.largest_cluster]];
    var table = D.el("table", "summary", rows.filter(function (r) { return r[1] !== undefined; }).map(function (r) {
      return D.el("tr", null, [D.el("td", "muted", [r[0]]), D.el("td", null, [Number(r[1]).toLocaleString()])]);
    }));
    box.appendChild(D.el("h2", null, ["Run"]));
    box.appendChild(table);
    box.appendChild(D.el("p", "muted", ["inputs: " + ((data.summary && data.summary.inputs) || []).join(", ") +
      " · report made " + data.generated + " by doublet " + data.version]));
    data.warnings.forEach(function (w) { box.appendChild(D.el("p", "warning", ["⚠ " + w])); });
  }

  function lists() {
    var box = $("lists");
    box.appendChild(D.el("h2", null, ["Clusters (" + data.clusters.length + ")"]));
    var cl = D.el("ol", "clusters");
    data.clusters.forEach(function (c) {
      var b = D.el("button", "link", [c.cluster]);
      b.type = "button";
      b.addEventListener("click", function () { showCluster(c); });
      var np = pairsByCluster[c.cluster].length;
      cl.appendChild(D.el("li", null, [b, " · " + c.members.length + " documents · " +
        np + (np === 1 ? " pair" : " pairs") + " shown"]));
    });
    box.appendChild(D.el("nav", "report-list", [cl]));
    box.appendChild(D.el("h2", null, ["Pairs (" + data.pairs.length + (data.total_pairs > data.pairs.length ?
      " of " + data.total_pairs : "") + ", strongest first)"]));
    var filter = D.el("input", null, []);
    filter.id = "pair-filter";
    filter.type = "search";
    filter.placeholder = "filter: a document id, near-duplicate, verbatim, light, heavy …";
    filter.setAttribute("aria-label", "filter the pairs");
    var count = D.el("span", "muted", []);
    count.id = "pair-count";
    var pl = D.el("ol", "pairs", data.pairs.map(function (p, k) { return pairItem(p, k); }));
    pl.id = "pair-list";
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(pl.children, function (li) {
        var text = li.textContent.toLowerCase();
        var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
        li.hidden = !hit;
        shown += hit ? 1 : 0;
      });
      count.textContent = words.length ? " " + shown + " of " + data.pairs.length + " shown" : "";
    });
    box.appendChild(D.el("p", "pair-filter", [filter, count]));
    box.appendChild(D.el("nav", "report-list", [pl]));
    var t = (data.summary && data.summary.templates) || null;
    var tb = D.el("section", null, [D.el("h2", null, ["Templates (" + data.total_blocks.toLocaleString() +
      " block" + (data.total_blocks === 1 ? "" : "s") + ")"])]);
    tb.id = "template-blocks";
    tb.appendChild(D.el("p", "muted", [t ? t.fingerprints.toLocaleString() + " fingerprints taken as template (" +
      (D.ruleCounts(t.by_rule) || "none") + "): their words are not compared and are drawn grey in the texts" +
      (data.total_blocks > data.blocks.length ? " · the " + data.blocks.length + " in most documents:" : "")
      : "This run lists no templates."]));
    tb.appendChild(D.templateList(data.blocks));
    box.appendChild(tb);
  }

  function pairItem(p, k) {
    var b = D.el("button", "match-open", [p.a + " ↔ " + p.b]);
    b.type = "button";
    b.addEventListener("click", function () { showPair(k); });
    return D.el("li", "match", [b, " ",
      D.scores(p.kind, p.jaccard, p.containment_a, p.containment_b, "a", "b", p.level),
      " · " + p.passages.length + " passage" + (p.passages.length === 1 ? "" : "s")]);
  }

  function showCluster(c) {
    var box = D.clear($("compare"));
    box.appendChild(D.el("h2", null, ["Cluster ", D.el("span", "doc-id", [c.cluster])]));
    box.appendChild(D.el("ul", "members", c.members.map(function (m) { return D.el("li", "doc-id", [m]); })));
    box.appendChild(D.el("ol", "pairs", pairsByCluster[c.cluster].map(function (k) {
      return pairItem(data.pairs[k], k);
    })));
    box.scrollIntoView({block: "start"});
  }

  function showPair(k, quiet) {
    var p = data.pairs[k];
    if (!p) return;
    var box = D.clear($("compare"));
    box.appendChild(D.el("h2", null, [D.el("span", "doc-id", [p.a]), " ↔ ", D.el("span", "doc-id", [p.b])]));
    box.appendChild(D.el("p", null,
      [D.scores(p.kind, p.jaccard, p.containment_a, p.containment_b, "a", "b", p.level)]));
    box.appendChild(D.sideBySide({title: p.a, text: data.texts[p.a], templates: data.templates[p.a]},
                                 {title: p.b, text: data.texts[p.b], templates: data.templates[p.b]},
                                 D.pairPassages(p)));
    if (quiet) return;
    history.replaceState(null, "", "#pair=" + (k + 1));
    box.scrollIntoView({block: "start"});
  }

  overview();
  lists();
  var m = /^#pair=(\d+)$/.exec(location.hash);
  if (data.pairs.length) showPair(m ? Number(m[1]) - 1 : 0, !m);
})();
