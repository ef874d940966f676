/* The page of `doublet serve`: paste or upload a text, see which indexed documents reuse it, side by side
 * with the reused passages highlighted and template words muted; browse a document's cluster; list the
 * index's templates. Uses render.js (Doublet.*); every document text and id goes into the DOM as text, and
 * into URLs through URLSearchParams only. */
"use strict";

(function () {
  var D = Doublet;
  var $ = function (id) { return document.getElementById(id); };
  var query = {text: "", id: null, templates: []};  // the text the current matches refer to
  var shownCluster = null;  // the id whose cluster is shown

  function status(message, isError) {
    var s = $("status");
    s.textContent = message;
    s.className = isError ? "error" : "";
  }

  /** fetch + JSON; throws Error(message) with the server's own message on a non-2xx answer. */
  function api(method, path, params, body) {
    var url = path + (params ? "?" + new URLSearchParams(params).toString() : "");
    var init = {method: method, headers: {"Accept": "application/json"}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error((data && data.message) || ("HTTP " + r.status));
        return data;
      });
    });
  }

  function getDocument(id) { return api("GET", "documents", {id: id, templates: "true"}); }

  function health() {
    api("GET", "health").then(function (h) {
      $("health").textContent = h.documents.toLocaleString() + " documents indexed";
    }).catch(function () { $("health").textContent = "index unavailable"; });
  }

  // ---------------------------------------------------------------------------------------- search

  function search() {
    var text = $("query-text").value;
    var id = $("query-id").value.trim();
    var site = $("query-site").value.trim();
    var body;
    if (text.trim()) {
      body = {text: text, limit: 100, templates: true};
    } else if (id) {
      body = {id: id, limit: 100, templates: true};
    } else {
      status("Paste a text, upload a .txt file, or give the id of an indexed document.", true);
      return;
    }
    if (site && body.text !== undefined) body.site = site;
    status("Searching…");
    D.clear($("compare"));
    hideCluster();
    var started = performance.now();
    var pending = body.text !== undefined ? Promise.resolve({text: text, id: null}) :
      getDocument(id).then(function (d) { return {text: d.text, id: d.id}; });
    pending.then(function (q) {
      return api("POST", "search", null, body).then(function (res) {
        query = {text: q.text, id: q.id, templates: res.query.templates || []};
        showMatches(res, performance.now() - started);
      });
    }).catch(function (e) { status(e.message, true); });
  }

  function showMatches(res, ms) {
    var list = D.clear($("matches"));
    $("results").hidden = false;
    var n = res.matches.length;
    status(n ? n + " indexed document" + (n === 1 ? "" : "s") + " reuse" + (n === 1 ? "s" : "") +
      " this text" + (res.total > n ? " (" + res.total + " in all; first " + n + " shown)" : "") +
      " · " + Math.round(ms) + " ms" : "No indexed document reuses this text.");
    res.matches.forEach(function (m, k) {
      var open = D.el("button", "match-open", [m.match]);
      open.type = "button";
      open.addEventListener("click", function () { select(k); showMatch(m); });
      var browse = D.el("button", "link", ["cluster"]);
      browse.type = "button";
      browse.title = "Browse the cluster of this document";
      browse.addEventListener("click", function () { browseCluster(m.match); });
      list.appendChild(D.el("li", "match", [open, " ",
        D.scores(m.kind, m.jaccard, m.containment_query, m.containment_match, "query", "match", m.level),
        " · " + m.passages.length + " passage" + (m.passages.length === 1 ? "" : "s") + " ", browse]));
    });
    if (n) { select(0); showMatch(res.matches[0]); }
  }

  function select(k) {
    Array.prototype.forEach.call($("matches").children, function (li, j) {
      li.classList.toggle("selected", j === k);
    });
  }

  function showMatch(m) {
    var box = D.clear($("compare"));
    box.appendChild(D.el("p", "muted", ["Loading " + m.match + "…"]));
    getDocument(m.match).then(function (doc) {
      var passages = m.passages.map(function (p) {
        return [p.query_start, p.query_end, p.match_start, p.match_end];
      });
      D.clear(box);
      box.appendChild(D.el("h2", null, ["Your text ↔ ", D.el("span", "doc-id", [doc.id])]));
      box.appendChild(D.sideBySide({title: query.id ? query.id : "your text", text: query.text,
                                    templates: query.templates},
                                   {title: doc.id, text: doc.text, templates: doc.templates}, passages));
    }).catch(function (e) { D.clear(box); status(e.message, true); });
  }

  // ---------------------------------------------------------------------------------------- clusters

  function hideCluster() {
    $("cluster").hidden = true;
    shownCluster = null;
  }

  function browseCluster(id) {
    shownCluster = id;
    var box = $("cluster");
    box.hidden = false;
    var body = D.clear($("cluster-body"));
    body.appendChild(D.el("p", "muted", ["Loading the cluster of " + id + "…"]));
    history.replaceState(null, "", "#cluster=" + encodeURIComponent(id));
    api("GET", "clusters", {id: id}).then(function (c) {
      D.clear(body);
      body.appendChild(D.el("p", null, [D.el("strong", "doc-id", [c.cluster]), " · " + c.cluster_size +
        " document" + (c.cluster_size === 1 ? "" : "s") + " · " + c.pairs.length + " pair" +
        (c.pairs.length === 1 ? "" : "s") + (c.complete ? "" : " (stopped at the member limit)")]));
      var members = D.el("ul", "members", c.members.map(function (m) { return D.el("li", "doc-id", [m]); }));
      body.appendChild(D.el("details", null, [D.el("summary", null, ["members"]), members]));
      var pairs = D.el("ol", "pairs");
      c.pairs.forEach(function (p) {
        var open = D.el("button", "match-open", [p.a + " ↔ " + p.b]);
        open.type = "button";
        open.addEventListener("click", function () { showPair(p); });
        pairs.appendChild(D.el("li", "match", [open, " ",
          D.scores(p.kind, p.jaccard, p.containment_a, p.containment_b, "a", "b", p.level)]));
      });
      body.appendChild(pairs);
      box.scrollIntoView({block: "start"});
    }).catch(function (e) { D.clear(body); status(e.message, true); });
  }

  function showPair(p) {
    var box = D.clear($("compare"));
    Promise.all([getDocument(p.a), getDocument(p.b)]).then(function (docs) {
      box.appendChild(D.el("h2", null, [D.el("span", "doc-id", [p.a]), " ↔ ", D.el("span", "doc-id", [p.b])]));
      box.appendChild(D.sideBySide({title: p.a, text: docs[0].text, templates: docs[0].templates},
                                   {title: p.b, text: docs[1].text, templates: docs[1].templates},
                                   D.pairPassages(p)));
      box.scrollIntoView({block: "start"});
    }).catch(function (e) { status(e.message, true); });
  }

  // ---------------------------------------------------------------------------------------- start page

  /** What is indexed (GET /overview): counts, a sample match to open, the documents added last to search. */
  function overview() {
    var body = $("overview-body");
    api("GET", "overview", {recent: 8}).then(function (o) {
      D.clear(body);
      body.appendChild(D.el("p", null, [o.documents.toLocaleString() + " document" + (o.documents === 1 ? "" : "s") +
        " · " + o.characters.toLocaleString() + " characters"]));
      if (!o.documents) {
        body.appendChild(D.el("p", "muted", ["The index is empty: add documents with `doublet index add` or " +
          "POST /documents."]));
        return;
      }
      if (o.sample) {
        var m = o.sample;
        var open = D.el("button", "match-open", [m.query + " ↔ " + m.match]);
        open.type = "button";
        open.id = "sample-pair";
        open.addEventListener("click", function () { showSample(m); });
        body.appendChild(D.el("p", "sample", ["A reusing pair to look at: ", open, " ",
          D.scores(m.kind, m.jaccard, m.containment_query, m.containment_match, "a", "b", m.level)]));
      }
      var list = D.el("ul", "recent", o.recent.map(function (r) {
        var b = D.el("button", "link", [r.id]);
        b.type = "button";
        b.title = "Search the index for documents that reuse " + r.id;
        b.addEventListener("click", function () {
          $("query-text").value = "";
          $("query-id").value = r.id;
          search();
        });
        return D.el("li", null, [b, " · " + r.chars.toLocaleString() + " characters" + (r.site ? " · " + r.site : "")]);
      }));
      list.id = "recent-docs";
      body.appendChild(D.el("details", null, [D.el("summary", null, ["Added last (click one to see what reuses it)"]),
        list]));
    }).catch(function (e) { D.clear(body); body.appendChild(D.el("p", "muted", ["overview unavailable: " +
      e.message])); });
  }

  function showSample(m) {
    showPair({a: m.query, b: m.match, passages: m.passages.map(function (p) {
      return {a_start: p.query_start, a_end: p.query_end, b_start: p.match_start, b_end: p.match_end};
    })});
  }

  // ---------------------------------------------------------------------------------------- templates

  /** The index's template blocks (GET /templates): rule, documents, example, text. */
  function templates() {
    var body = D.clear($("templates-body"));
    api("GET", "templates", {limit: 20}).then(function (t) {
      body.appendChild(D.el("p", null, [t.total ? t.total.toLocaleString() + " template block" +
        (t.total === 1 ? "" : "s") + " · " + t.fingerprints.toLocaleString() + " fingerprints (" +
        D.ruleCounts(t.by_rule) + ")" + (t.total > t.blocks.length ? " · the " + t.blocks.length +
        " in most documents:" : "")
        : "No templates yet: they are recognised as documents of a site arrive."]));
      body.appendChild(D.templateList(t.blocks));
    }).catch(function (e) { body.appendChild(D.el("p", "muted", ["templates unavailable: " + e.message])); });
  }

  // ---------------------------------------------------------------------------------------- wiring

  $("search-button").addEventListener("click", search);
  $("query-text").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) search();
  });
  $("query-file").addEventListener("change", function () {
    var f = this.files && this.files[0];
    if (!f) return;
    f.text().then(function (t) {
      $("query-text").value = t;
      $("query-id").value = "";
      search();
    });
  });
  /** "#cluster=<percent-encoded id>" opens that cluster (links, back/forward, a pasted address). */
  function followHash() {
    var m = /^#cluster=(.+)$/.exec(location.hash);
    if (!m) return;
    var id;
    try { id = decodeURIComponent(m[1]); } catch (e) { status("bad link: " + location.hash, true); return; }
    if (id !== shownCluster) browseCluster(id);
  }

  health();
  overview();
  templates();
  window.addEventListener("hashchange", followHash);
  followHash();
})();
