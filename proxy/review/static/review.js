// Primum safety review page: the queue, case detail and workflow, decisions, charts, export.
//
// Plain ES2020, no framework, no build step, no network use beyond this proxy's own
// /review/api (see proxy/review/API.md). Every piece of data is rendered with
// textContent / createElement, never as HTML. The review key lives in sessionStorage and
// travels only in the Authorization header, never in a URL.
"use strict";

(() => {
  const API = "/review/api";
  const KEY_STORE = "primum.reviewKey";
  // Rows per "Load more" page; a test may lower it (before the page loads) to page early.
  const PAGE_SIZE = Math.min(500, Math.max(1, Number(window.primumReviewPageSize) || 50));
  const SVG_NS = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------------ labels
  const STATUS = { open: "Open", in_review: "In review", resolved: "Resolved" };
  const RESOLUTION = {
    confirmed: "Confirmed",
    false_positive: "False positive",
    policy_change: "Policy change needed",
  };
  const RESOLUTION_HELP = {
    confirmed: "The guard acted rightly.",
    false_positive: "The guard should not have acted.",
    policy_change: "The case shows the policy itself needs changing.",
  };
  const FILTERS = {
    status: { label: "Status", facet: "statuses" },
    priority: { label: "Priority", facet: "priorities" },
    resolution: { label: "Resolution", facet: "resolutions" },
    action: { label: "Action", facet: "actions" },
    stage: { label: "Stage", facet: "stages" },
    severity: { label: "Severity", facet: "severities" },
    tenant: { label: "Tenant", facet: "tenants" },
    model: { label: "Model", facet: "models" },
    // A case's "rule" is the policy escalation that opened it (crisis, ethics_review, ...).
    rule: { label: "Escalation", facet: "rules" },
    check: { label: "Check", facet: "checks" },
    category: { label: "Category", facet: "categories" },
    principle: { label: "AMA principle", facet: "principles" },
    criterion: { label: "CSEDB criterion", facet: "criteria" },
    assignee: { label: "Assignee", text: true },
  };
  const CASE_FILTERS = ["status", "priority", "resolution", "tenant", "rule", "check", "category",
    "principle", "criterion", "model", "assignee"];
  const DECISION_FILTERS = ["action", "stage", "severity", "tenant", "model", "check", "category",
    "principle", "criterion"];
  const RANGES = [
    ["24h", "Last 24 hours", 24],
    ["7d", "Last 7 days", 24 * 7],
    ["30d", "Last 30 days", 24 * 30],
    ["90d", "Last 90 days", 24 * 90],
    ["all", "Any time", null],
    ["custom", "Custom range…", null],
  ];
  const ACTION_COLORS = {
    block: "#b42318", escalate: "#6941c6", clarify: "#1570ef", redact: "#0e7c72",
    annotate: "#c77700", allow: "#3b7d23", other: "#8a94a6",
  };
  const PALETTE = ["#1f5fbf", "#d9480f", "#2b8a3e", "#9c36b5", "#c2255c", "#0b7285", "#a66a00",
    "#5f3dc4", "#364fc7", "#087f5b"];
  const OTHER_COLOR = "#8a94a6";

  // ------------------------------------------------------------------ state
  function newFilters(selected, range) {
    const sel = {};
    for (const [name, values] of Object.entries(selected)) sel[name] = new Set(values);
    return { range, since: "", until: "", sel, text: {} };
  }

  const DEFAULTS = {
    queue: () => Object.assign(newFilters({ status: ["open", "in_review"] }, "all"), { order: "queue" }),
    decisions: () => newFilters({}, "7d"),
    charts: () => Object.assign(newFilters({}, "7d"), { bucket: "auto" }),
  };

  const state = {
    key: null,
    me: null,
    facets: {},
    seq: 0, // bumped on every navigation: late answers for a previous view are dropped
    views: { queue: DEFAULTS.queue(), decisions: DEFAULTS.decisions(), charts: DEFAULTS.charts() },
  };

  // ------------------------------------------------------------------ DOM helpers
  const $ = (id) => document.getElementById(id);

  function setAttrs(el, attrs) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") el.setAttribute("class", value);
      else if (name === "text") el.textContent = String(value);
      else if (name === "on") {
        for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      } else el.setAttribute(name, value === true ? "" : String(value));
    }
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  /** An HTML element; string children become text nodes (never parsed as HTML). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    return append(el, children);
  }

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    return append(el, children);
  }

  function clear(el) {
    while (el.firstChild) el.firstChild.remove();
    return el;
  }

  function announce(text) {
    const region = $("announce");
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  function field(label, control, hint) {
    const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
    control.id = id;
    return h("div", { class: "field" }, h("label", { for: id }, label), control,
      hint ? h("p", { class: "hint" }, hint) : null);
  }

  // ------------------------------------------------------------------ formatting
  function humanize(value) {
    const text = String(value ?? "").replace(/[_-]+/g, " ").trim();
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  function valueLabel(name, value) {
    if (name === "status") return STATUS[value] || humanize(value);
    if (name === "resolution") return RESOLUTION[value] || humanize(value);
    if (name === "principle") return principleLabel(value);
    if (name === "category") return categoryLabel(value);
    if (["action", "stage", "severity", "priority"].includes(name)) return humanize(value);
    return String(value);
  }

  function principleName(id) {
    const found = (state.facets.principles || []).find((p) => String(p.id) === String(id));
    return found ? found.name : "";
  }

  function principleLabel(id) {
    if (id === null || id === undefined || id === "") return "";
    const name = principleName(id);
    return name ? `${id} · ${name}` : `Principle ${id}`;
  }

  function splitCategory(value) {
    const text = String(value);
    const at = text.indexOf("/");
    return at < 0 ? ["", text] : [text.slice(0, at), text.slice(at + 1)];
  }

  /** What a category means, from its name (explanations are not stored: they may hold PHI). */
  function categoryMeaning(category) {
    const m = /^p([1-9])_/.exec(category);
    if (m) {
      const name = principleName(m[1]);
      return `AMA principle ${m[1]}${name ? `: ${name}` : ""}`;
    }
    return humanize(category);
  }

  function categoryLabel(value) {
    const [check, category] = splitCategory(value);
    return check ? `${check} / ${categoryMeaning(category)}` : categoryMeaning(category);
  }

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
      second: "2-digit",
    });
  }

  function timeEl(iso) {
    if (!iso) return h("span", { class: "muted" }, "—");
    return h("time", { datetime: iso, title: iso }, fmtTime(iso));
  }

  function fmtAge(iso) {
    const seconds = (Date.now() - Date.parse(iso)) / 1000;
    if (!Number.isFinite(seconds)) return "";
    if (seconds < 60) return "just now";
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`;
    return `${Math.floor(seconds / 86400)} d`;
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return "—";
    const v = Number(ms);
    return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
  }

  function fmtScore(score) {
    const v = Number(score);
    return Number.isFinite(v) ? v.toFixed(2) : "—";
  }

  function shortId(id) {
    const text = String(id);
    return text.length > 10 ? `${text.slice(0, 8)}…` : text;
  }

  function badge(kind, value, label) {
    if (value === null || value === undefined || value === "") return null;
    return h("span", { class: `badge badge-${kind} ${kind}-${String(value).replace(/[^a-z0-9_-]/gi, "")}` },
      label || humanize(value));
  }

  function chips(values, describe) {
    const list = values || [];
    if (!list.length) return h("span", { class: "muted" }, "—");
    return h("ul", { class: "chips" },
      list.map((v) => h("li", { class: "chip", title: describe ? describe(v) : null }, String(v))));
  }

  // ------------------------------------------------------------------ API
  class ApiError extends Error {
    constructor(status, message, code, param) {
      super(message);
      this.status = status;
      this.code = code || null;
      this.param = param || null;
    }
  }

  async function request(path, { method = "GET", params = null, body, key, quiet401 } = {}) {
    const query = params && [...params.keys()].length ? `?${params}` : "";
    const headers = { Authorization: `Bearer ${key || state.key}`, Accept: "application/json" };
    const init = { method, headers, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(`${API}${path}${query}`, init);
    } catch (err) {
      throw new ApiError(0, "The proxy could not be reached. Is it running?");
    }
    if (res.ok) return res;
    let error = {};
    try {
      error = ((await res.json()) || {}).error || {};
    } catch (err) { /* not JSON */ }
    const message = error.message || `The request failed (HTTP ${res.status}).`;
    if (res.status === 401 && !quiet401) {
      signOut("Your review key was not accepted (it may have been changed or revoked). "
        + "Please sign in again.");
    }
    throw new ApiError(res.status, message, error.code, error.param);
  }

  async function getJSON(path, options) {
    return (await request(path, options)).json();
  }

  // ------------------------------------------------------------------ sign-in
  function showSignin(message) {
    $("app").hidden = true;
    document.querySelector(".tabs").hidden = true;
    document.querySelector(".user").hidden = true;
    $("signin").hidden = false;
    const error = $("signin-error");
    error.textContent = message || "";
    error.hidden = !message;
    const input = $("signin-key");
    input.value = "";
    input.focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORE);
    state.key = null;
    state.me = null;
    state.facets = {};
    state.seq += 1;
    clear($("view"));
    showSignin(message);
  }

  async function signIn(key, fromStorage) {
    let me;
    try {
      me = await getJSON("/me", { key, quiet401: true });
    } catch (err) {
      if (err.status === 401) {
        sessionStorage.removeItem(KEY_STORE);
        showSignin(fromStorage
          ? "Your session has ended. Please sign in again."
          : "That review key was not accepted. Check it and try again.");
      } else if (err.code === "review_disabled") {
        showSignin("Review is not enabled on this proxy: no reviewer is configured "
          + "(review.reviewers in the proxy config).");
      } else {
        showSignin(err.message);
      }
      return;
    }
    state.key = key;
    state.me = me;
    sessionStorage.setItem(KEY_STORE, key);
    $("signin").hidden = true;
    $("app").hidden = false;
    document.querySelector(".tabs").hidden = false;
    const user = document.querySelector(".user");
    user.hidden = false;
    const nameEl = document.querySelector(".user-name");
    nameEl.textContent = `${me.name} · ${me.role}`;
    nameEl.title = me.role === "admin" ? "Admin: every tenant"
      : `Tenants: ${(me.tenants || []).join(", ") || "none"}`;
    let facetError = "";
    try {
      state.facets = await getJSON("/facets");
    } catch (err) {
      if (err.status === 401) return;
      state.facets = {};
      facetError = `Filter values could not be loaded: ${err.message}`;
    }
    if (!location.hash || location.hash === "#") history.replaceState(null, "", "#/queue");
    route();
    if (facetError) showAppError(facetError);
  }

  function showAppError(message) {
    const el = $("app-error");
    el.textContent = message || "";
    el.hidden = !message;
  }

  // ------------------------------------------------------------------ routing
  function route() {
    if (!state.key || !state.me) return;
    state.seq += 1;
    showAppError("");
    const parts = location.hash.replace(/^#\/?/, "").split("/").map((p) => {
      try { return decodeURIComponent(p); } catch (err) { return p; }
    });
    const [view, id] = parts;
    const root = clear($("view"));
    let tab = view;
    if (view === "cases" && id) { renderCase(root, id); tab = "queue"; }
    else if (view === "decisions" && id) renderDecision(root, id);
    else if (view === "decisions") renderDecisions(root);
    else if (view === "charts") renderCharts(root);
    else { renderQueue(root); tab = "queue"; }
    for (const link of document.querySelectorAll(".tabs a")) {
      if (link.dataset.view === tab) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  function stillCurrent(seq) {
    return seq === state.seq && state.key !== null;
  }

  function viewHeader(title, id, ...extra) {
    return h("div", { class: "view-head" },
      h("h1", { id, tabindex: "-1" }, title), ...extra);
  }

  function focusHeading(root) {
    const heading = root.querySelector("h1");
    if (heading) heading.focus({ preventScroll: true });
  }

  // ------------------------------------------------------------------ filters
  function facetOptions(name, selected) {
    const facets = state.facets || {};
    let options;
    if (name === "principle") {
      options = (facets.principles || []).map((p) => ({ value: String(p.id), label: principleLabel(p.id) }));
    } else {
      options = (facets[FILTERS[name].facet] || []).map((v) => ({ value: String(v), label: valueLabel(name, v) }));
    }
    for (const value of selected || []) {
      if (!options.some((o) => o.value === value)) options.push({ value, label: valueLabel(name, value) });
    }
    return options;
  }

  function multiSelect(name, st, onChange) {
    const spec = FILTERS[name];
    const selected = st.sel[name] || (st.sel[name] = new Set());
    const valueText = h("span", { class: "ms-value" });
    const options = facetOptions(name, selected);
    const labelFor = (v) => (options.find((o) => o.value === v) || { label: v }).label;
    const refreshSummary = () => {
      const values = [...selected];
      valueText.textContent = !values.length ? "Any"
        : values.length <= 2 ? values.map(labelFor).join(", ") : `${values.length} selected`;
      details.classList.toggle("ms-active", values.length > 0);
    };
    const boxes = options.map((o) => h("label", { class: "ms-option" },
      h("input", {
        type: "checkbox", value: o.value, checked: selected.has(o.value),
        "data-testid": `filter-${name}-option`,
        on: {
          change: (e) => {
            if (e.target.checked) selected.add(o.value); else selected.delete(o.value);
            refreshSummary();
            onChange();
          },
        },
      }), h("span", null, o.label)));
    const panel = h("div", { class: "ms-panel", role: "group", "aria-label": spec.label },
      boxes.length ? boxes : h("p", { class: "muted" }, "No values recorded yet."),
      h("button", {
        type: "button", class: "btn btn-small btn-ghost",
        on: {
          click: () => {
            selected.clear();
            for (const box of panel.querySelectorAll("input")) box.checked = false;
            refreshSummary();
            onChange();
          },
        },
      }, "Clear"));
    const details = h("details", { class: "ms", "data-testid": `filter-${name}`, "data-filter": name },
      h("summary", null, h("span", { class: "ms-label" }, spec.label), valueText),
      panel);
    details.addEventListener("toggle", () => {
      if (!details.open) return;
      for (const other of document.querySelectorAll("details.ms[open]")) {
        if (other !== details) other.open = false;
      }
    });
    details.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && details.open) {
        details.open = false;
        details.querySelector("summary").focus();
      }
    });
    refreshSummary();
    return details;
  }

  function toLocalInput(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function filterBar(view, names, onChange, { ranges = RANGES, extra = [] } = {}) {
    const st = state.views[view];
    let timer = null;
    const changed = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(onChange, 150);
    };
    const since = h("input", {
      type: "datetime-local", value: toLocalInput(st.since), "data-testid": "filter-since",
      on: { change: (e) => { st.since = e.target.value ? new Date(e.target.value).toISOString() : ""; changed(); } },
    });
    const until = h("input", {
      type: "datetime-local", value: toLocalInput(st.until), "data-testid": "filter-until",
      on: { change: (e) => { st.until = e.target.value ? new Date(e.target.value).toISOString() : ""; changed(); } },
    });
    const custom = h("div", { class: "custom-range" },
      field("From", since), field("Until (exclusive)", until));
    custom.hidden = st.range !== "custom";
    const range = h("select", {
      "data-testid": "filter-range",
      on: {
        change: (e) => {
          st.range = e.target.value;
          custom.hidden = st.range !== "custom";
          changed();
        },
      },
    }, ranges.map(([value, label]) => h("option", { value, selected: value === st.range }, label)));
    const controls = names.map((name) => {
      if (FILTERS[name].text) {
        return field(FILTERS[name].label, h("input", {
          type: "search", value: st.text[name] || "", placeholder: "name", "data-testid": `filter-${name}`,
          autocomplete: "off",
          on: { change: (e) => { st.text[name] = e.target.value.trim(); changed(); } },
        }));
      }
      return multiSelect(name, st, changed);
    });
    const form = h("form", { class: "filters", role: "search", "aria-label": "Filters", "data-testid": "filters" },
      h("div", { class: "filters-row" }, field("Time", range), custom, controls, extra,
        h("button", {
          type: "button", class: "btn btn-ghost btn-small", "data-testid": "filters-reset",
          on: {
            click: () => {
              state.views[view] = DEFAULTS[view]();
              route(); // rebuilt, so that every control shows its reset state
            },
          },
        }, "Reset filters")));
    form.addEventListener("submit", (e) => { e.preventDefault(); onChange(); });
    return form;
  }

  function filterParams(st, names) {
    const params = new URLSearchParams();
    const preset = RANGES.find(([value]) => value === st.range);
    if (st.range === "custom") {
      if (st.since) params.set("since", st.since);
      if (st.until) params.set("until", st.until);
    } else if (preset && preset[2]) {
      params.set("since", new Date(Date.now() - preset[2] * 3600 * 1000).toISOString());
    }
    for (const name of names) {
      if (FILTERS[name].text) {
        if (st.text[name]) params.set(name, st.text[name]);
        continue;
      }
      for (const value of st.sel[name] || []) params.append(name, value);
    }
    return params;
  }

  // ------------------------------------------------------------------ export
  async function exportFile(kind, format, params, button) {
    const query = new URLSearchParams(params);
    query.set("format", format);
    button.disabled = true;
    try {
      const res = await request(`/export/${kind}`, { params: query });
      const blob = await res.blob();
      const disposition = res.headers.get("Content-Disposition") || "";
      const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
      const filename = match ? decodeURIComponent(match[1]) : `primum-${kind}.${format}`;
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: filename, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      announce(`Downloaded ${filename}`);
    } catch (err) {
      if (err.status !== 401) showAppError(`Export failed: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  }

  function exportButtons(kind, paramsFn) {
    return h("div", { class: "export", role: "group", "aria-label": "Export" },
      ["csv", "json"].map((format) => {
        const button = h("button", {
          type: "button", class: "btn btn-small", "data-testid": `export-${kind}-${format}`,
          title: `Download the ${kind} matching the current filters as ${format.toUpperCase()}`,
        }, `Export ${format.toUpperCase()}`);
        button.addEventListener("click", () => exportFile(kind, format, paramsFn(), button));
        return button;
      }));
  }

  // ------------------------------------------------------------------ paged lists
  /** A table filled page by page ("Load more") from a list endpoint. */
  function pagedTable({ testid, columns, path, paramsFn, row, empty, noun }) {
    const tbody = h("tbody");
    const table = h("table", { class: "table", "data-testid": testid },
      h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col" }, c)))), tbody);
    const status = h("p", { class: "list-status muted", role: "status", "data-testid": `${testid}-status` });
    const more = h("button", { type: "button", class: "btn", "data-testid": `${testid}-more`, hidden: true },
      "Load more");
    let cursor = null;
    let count = 0;
    let token = 0;
    const seq = state.seq;

    async function load(reset) {
      const mine = ++token;
      if (reset) cursor = null;
      const params = paramsFn();
      params.set("limit", String(PAGE_SIZE));
      if (cursor) params.set("cursor", cursor);
      more.disabled = true;
      status.textContent = "Loading…";
      let page;
      try {
        page = await getJSON(path, { params });
      } catch (err) {
        if (mine !== token || !stillCurrent(seq)) return;
        more.disabled = false;
        status.textContent = "";
        if (err.status !== 401) {
          showAppError(err.param ? `${err.message} (filter: ${err.param})` : err.message);
        }
        return;
      }
      if (mine !== token || !stillCurrent(seq)) return;
      showAppError("");
      if (reset) { clear(tbody); count = 0; }
      for (const item of page.data || []) tbody.append(row(item));
      count += (page.data || []).length;
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
      more.disabled = false;
      status.textContent = count ? `${count} ${noun}${count === 1 ? "" : "s"} shown${cursor ? "; more available" : ""}.`
        : empty;
    }

    more.addEventListener("click", () => load(false));
    const wrap = h("div", { class: "table-wrap" }, table);
    return { el: h("div", { class: "paged" }, status, wrap, h("div", { class: "more" }, more)), load };
  }

  function rowLink(tr, href) {
    tr.classList.add("clickable");
    tr.addEventListener("click", (e) => {
      if (e.target.closest("a, button, input, select, textarea")) return;
      location.hash = href;
    });
    return tr;
  }

  // ------------------------------------------------------------------ queue
  function caseParams() {
    return filterParams(state.views.queue, CASE_FILTERS);
  }

  function renderQueue(root) {
    const st = state.views.queue;
    const list = pagedTable({
      testid: "queue-table",
      columns: ["Priority", "Case", "Age", "Tenant", "Escalation", "Categories", "Status", "Assignee"],
      path: "/cases",
      noun: "case",
      empty: "No cases match these filters.",
      paramsFn: () => {
        const params = caseParams();
        params.set("order", st.order);
        return params;
      },
      row: (c) => rowLink(h("tr", { "data-testid": "queue-row", "data-case-id": c.case_id },
        h("td", null, badge("priority", c.priority)),
        h("td", null, h("a", {
          href: `#/cases/${encodeURIComponent(c.case_id)}`, class: "mono", "data-testid": "case-link",
          "aria-label": `Case ${c.case_id}`, title: c.case_id,
        }, shortId(c.case_id))),
        h("td", null, h("span", { title: fmtTime(c.time) }, fmtAge(c.time))),
        h("td", null, c.tenant),
        h("td", null, h("code", null, c.rule || "")),
        h("td", null, chips(c.categories, categoryLabel)),
        h("td", null, badge("status", c.status, STATUS[c.status]),
          c.resolution ? h("span", { class: "resolution" }, ` ${RESOLUTION[c.resolution] || humanize(c.resolution)}`) : null),
        h("td", null, c.assignee || h("span", { class: "muted" }, "unassigned"))),
      `#/cases/${encodeURIComponent(c.case_id)}`),
    });
    const reload = () => list.load(true);
    const order = h("select", {
      "data-testid": "queue-order",
      on: { change: (e) => { st.order = e.target.value; reload(); } },
    },
    h("option", { value: "queue", selected: st.order === "queue" }, "Most urgent first"),
    h("option", { value: "newest", selected: st.order === "newest" }, "Newest first"));
    append(root, [
      h("section", { class: "view", "aria-labelledby": "queue-title", "data-testid": "queue-view" },
        viewHeader("Review queue", "queue-title",
          h("div", { class: "head-actions" },
            h("button", { type: "button", class: "btn btn-small", "data-testid": "refresh", on: { click: reload } }, "Refresh"),
            exportButtons("cases", caseParams))),
        filterBar("queue", CASE_FILTERS, reload, { extra: [field("Order", order)] }),
        list.el),
    ]);
    focusHeading(root);
    reload();
  }

  // ------------------------------------------------------------------ case detail
  function dl(pairs) {
    return h("dl", { class: "fields" }, pairs.filter(Boolean).map(([term, value, testid]) => [
      h("dt", null, term),
      h("dd", { "data-testid": testid || null }, value === null || value === undefined || value === ""
        ? h("span", { class: "muted" }, "—") : value),
    ]));
  }

  function excerptBlock(text, testid) {
    return h("figure", { class: "excerpt" },
      h("figcaption", null, "Excerpt (PHI-redacted)"),
      h("pre", { "data-testid": testid, tabindex: "0" }, text || "(empty)"));
  }

  function findingsTable(findings) {
    if (!findings || !findings.length) return h("p", { class: "muted" }, "No findings.");
    return h("div", { class: "table-wrap" }, h("table", { class: "table findings", "data-testid": "findings-table" },
      h("caption", { class: "sr-only" }, "Findings"),
      h("thead", null, h("tr", null,
        ["Check", "Category", "Score", "AMA principle", "CSEDB criterion", "Entity"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, findings.map((f) => h("tr", { "data-testid": "finding-row" },
        h("td", null, h("code", null, f.check)),
        h("td", null, h("code", null, f.category), h("div", { class: "meaning" }, categoryMeaning(f.category))),
        h("td", { class: "score" },
          h("meter", { min: "0", max: "1", value: String(Number(f.score) || 0), "aria-hidden": "true" }),
          h("span", { "data-testid": "finding-score" }, fmtScore(f.score))),
        h("td", null, f.principle !== null && f.principle !== undefined ? principleLabel(f.principle) : h("span", { class: "muted" }, "—")),
        h("td", null, f.criterion || h("span", { class: "muted" }, "—")),
        h("td", null, f.entity || h("span", { class: "muted" }, "—")))))));
  }

  function latencyText(latency) {
    if (!latency) return "—";
    const checks = Object.entries(latency.checks || {}).map(([name, ms]) => `${name} ${fmtMs(ms)}`);
    return `${fmtMs(latency.total)} total${checks.length ? ` (${checks.join(", ")})` : ""}`;
  }

  function decisionCard(d, { withLink = true, withCase = false } = {}) {
    return h("article", { class: "card decision", "data-testid": "decision-card", "data-decision-id": d.id },
      h("header", { class: "decision-head" },
        h("h3", null, `${humanize(d.stage)} decision`),
        badge("action", d.action), badge("severity", d.severity, `severity: ${d.severity}`),
        timeEl(d.time),
        withLink ? h("a", { href: `#/decisions/${encodeURIComponent(d.id)}`, class: "small" }, "Open decision") : null),
      dl([
        ["Policy", d.policy_id ? `${d.policy_id} ${d.policy_version ? `v${d.policy_version}` : ""}` : "", "decision-policy"],
        ["Rules", chips(d.rules)],
        ["Categories", chips(d.categories, categoryLabel)],
        ["Guard latency", latencyText(d.latency_ms)],
        ["Upstream", d.upstream_ms === null || d.upstream_ms === undefined ? "" : fmtMs(d.upstream_ms)],
        withCase ? ["Case", d.case_id ? h("a", { href: `#/cases/${encodeURIComponent(d.case_id)}`, class: "mono" }, d.case_id) : ""] : null,
      ]),
      d.failures && d.failures.length ? h("div", { class: "alert alert-warn" },
        h("strong", null, "Checks that gave no answer: "),
        d.failures.map((f) => `${f.check} (${f.reason}, fail ${f.fail_mode})`).join("; ")) : null,
      h("h4", null, "Findings"),
      findingsTable(d.findings),
      excerptBlock(d.excerpt, "decision-excerpt"));
  }

  function eventText(e) {
    const d = e.detail || {};
    switch (e.kind) {
      case "opened": {
        const bits = [d.rule ? `escalation ${d.rule}` : "", d.priority ? `priority ${d.priority}` : ""].filter(Boolean);
        return `Case opened${bits.length ? ` (${bits.join(", ")})` : ""}`;
      }
      case "status": {
        const from = STATUS[d.from] || humanize(d.from);
        const to = STATUS[d.to] || humanize(d.to);
        const res = d.resolution ? `: ${RESOLUTION[d.resolution] || humanize(d.resolution)}` : "";
        return `Status ${from} → ${to}${res}`;
      }
      case "assigned":
        if (!d.to) return `Unassigned${d.from ? ` (was ${d.from})` : ""}`;
        return `Assigned to ${d.to}${d.from ? ` (was ${d.from})` : ""}`;
      case "note":
        return "Note";
      default:
        return humanize(e.kind);
    }
  }

  function timeline(events) {
    if (!events || !events.length) return h("p", { class: "muted" }, "No events.");
    return h("ol", { class: "timeline", "data-testid": "timeline" }, events.map((e) =>
      h("li", { class: `event event-${e.kind}`, "data-testid": "timeline-event", "data-kind": e.kind },
        h("div", { class: "event-head" },
          h("span", { class: "event-what" }, eventText(e)),
          h("span", { class: "event-meta muted" }, e.actor, " · ", timeEl(e.time))),
        e.kind === "note" && e.detail && e.detail.note
          ? h("blockquote", { class: "note", "data-testid": "timeline-note" }, e.detail.note) : null)));
  }

  async function renderCase(root, caseId) {
    const seq = state.seq;
    const container = h("section", { class: "view", "aria-labelledby": "case-title", "data-testid": "case-view" },
      h("p", { class: "crumbs" }, h("a", { href: "#/queue", "data-testid": "back-to-queue" }, "← Back to the queue")),
      h("p", { class: "muted", role: "status" }, "Loading case…"));
    root.append(container);
    let detail;
    try {
      detail = await getJSON(`/cases/${encodeURIComponent(caseId)}`);
    } catch (err) {
      if (!stillCurrent(seq) || err.status === 401) return;
      clear(container).append(
        h("p", { class: "crumbs" }, h("a", { href: "#/queue" }, "← Back to the queue")),
        h("h1", { id: "case-title", tabindex: "-1" }, "Case not available"),
        h("p", { class: "alert alert-error", role: "alert", "data-testid": "not-found" },
          err.status === 404 ? "No such case, or it belongs to a tenant you may not see." : err.message));
      return;
    }
    if (!stillCurrent(seq)) return;
    fillCase(container, detail, "");
    focusHeading(root);
  }

  function fillCase(container, c, message) {
    const isAdmin = state.me && state.me.role === "admin";
    const msg = h("p", { class: "case-message", role: "status", "data-testid": "case-message" }, message || "");
    const busy = (on) => {
      for (const el of container.querySelectorAll(".workflow button, .workflow input, .workflow textarea")) el.disabled = on;
    };
    async function patch(body, done) {
      busy(true);
      msg.textContent = "Saving…";
      msg.classList.remove("error");
      try {
        const updated = await getJSON(`/cases/${encodeURIComponent(c.case_id)}`, { method: "PATCH", body });
        fillCase(container, updated, done);
        announce(done);
        const focus = container.querySelector("[data-testid=case-message]");
        if (focus) focus.focus();
      } catch (err) {
        if (err.status === 401) return;
        if (err.status === 409 || err.status === 404) {
          // Someone else changed (or removed) the case meanwhile: show it as it is now.
          try {
            const fresh = await getJSON(`/cases/${encodeURIComponent(c.case_id)}`);
            fillCase(container, fresh, `The case changed meanwhile (${err.message}); it is shown as it is now.`);
            container.querySelector("[data-testid=case-message]").classList.add("error");
            return;
          } catch (again) {
            if (again.status === 401) return;
          }
        }
        busy(false);
        msg.textContent = err.message;
        msg.classList.add("error");
      }
    }

    const actions = h("div", { class: "button-row" });
    if (c.status === "open") {
      actions.append(h("button", {
        type: "button", class: "btn btn-primary", "data-testid": "start-review",
        on: { click: () => patch({ status: "in_review", assignee: c.assignee || state.me.name }, "Review started.") },
      }, "Start review"));
    }
    if (c.status === "in_review") {
      actions.append(h("button", {
        type: "button", class: "btn", "data-testid": "return-to-queue",
        on: { click: () => patch({ status: "open" }, "Returned to the queue.") },
      }, "Put back in the queue"));
    }
    if (c.status === "resolved" && isAdmin) {
      actions.append(h("button", {
        type: "button", class: "btn", "data-testid": "reopen",
        on: { click: () => patch({ status: "in_review" }, "Case reopened.") },
      }, "Reopen case"));
    }

    const assignee = h("input", { type: "text", value: c.assignee || "", autocomplete: "off", "data-testid": "assignee-input" });
    const assignForm = h("form", { class: "inline-form", "data-testid": "assign-form" },
      field("Assignee", assignee),
      h("div", { class: "button-row" },
        h("button", { type: "submit", class: "btn btn-small", "data-testid": "assignee-save" }, "Save assignee"),
        h("button", {
          type: "button", class: "btn btn-small", "data-testid": "assign-me",
          disabled: c.assignee === state.me.name,
          on: { click: () => patch({ assignee: state.me.name }, `Assigned to ${state.me.name}.`) },
        }, "Assign to me")));
    assignForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const value = assignee.value.trim();
      patch({ assignee: value || null }, value ? `Assigned to ${value}.` : "Unassigned.");
    });

    const note = h("textarea", { rows: "3", "data-testid": "note-input", maxlength: "4000" });
    const noteForm = h("form", { class: "inline-form", "data-testid": "note-form" },
      field("Add a note", note, "Notes are PHI-redacted before they are stored; please do not paste patient identifiers."),
      h("button", { type: "submit", class: "btn btn-small", "data-testid": "note-add" }, "Add note"));
    noteForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = note.value.trim();
      if (!text) { msg.textContent = "Write a note first."; note.focus(); return; }
      patch({ note: text }, "Note added.");
    });

    let resolveForm = null;
    if (c.status !== "resolved") {
      const radios = Object.entries(RESOLUTION).map(([value, label]) => h("label", { class: "radio" },
        h("input", { type: "radio", name: "resolution", value, "data-testid": `resolution-${value}` }),
        h("span", null, h("strong", null, label), h("span", { class: "muted" }, ` — ${RESOLUTION_HELP[value]}`))));
      resolveForm = h("form", { class: "inline-form", "data-testid": "resolve-form" },
        h("fieldset", null, h("legend", null, "Resolve as"), radios),
        h("button", { type: "submit", class: "btn btn-primary", "data-testid": "resolve" }, "Resolve case"));
      resolveForm.addEventListener("submit", (e) => {
        e.preventDefault();
        const chosen = resolveForm.querySelector("input[name=resolution]:checked");
        if (!chosen) { msg.textContent = "Choose a resolution first."; msg.classList.add("error"); return; }
        patch({ status: "resolved", resolution: chosen.value },
          `Case resolved: ${RESOLUTION[chosen.value]}.`);
      });
    }

    msg.tabIndex = -1;
    clear(container).append(
      h("p", { class: "crumbs" }, h("a", { href: "#/queue", "data-testid": "back-to-queue" }, "← Back to the queue")),
      h("div", { class: "view-head" },
        h("h1", { id: "case-title", tabindex: "-1" }, "Case ", h("span", { class: "mono" }, shortId(c.case_id))),
        badge("priority", c.priority, `${humanize(c.priority)} priority`),
        h("span", { "data-testid": "case-status" }, badge("status", c.status, STATUS[c.status])),
        c.resolution ? h("span", { "data-testid": "case-resolution" },
          badge("resolution", c.resolution, RESOLUTION[c.resolution] || humanize(c.resolution))) : null),
      h("div", { class: "case-grid" },
        h("div", { class: "case-main" },
          h("section", { class: "card", "aria-labelledby": "case-summary" },
            h("h2", { id: "case-summary" }, "Summary"),
            dl([
              ["Case id", h("span", { class: "mono" }, c.case_id)],
              ["Opened", timeEl(c.time)],
              ["Updated", timeEl(c.updated_at)],
              ["Tenant", c.tenant, "case-tenant"],
              ["Model", c.model],
              ["Escalation", h("code", null, c.rule || "")],
              ["Policy", c.policy_id ? `${c.policy_id} v${c.policy_version}` : "", "case-policy"],
              ["Status", STATUS[c.status] || humanize(c.status)],
              ["Resolution", c.resolution ? RESOLUTION[c.resolution] || humanize(c.resolution) : ""],
              ["Resolved", c.resolved_at ? timeEl(c.resolved_at) : ""],
              ["Assignee", c.assignee || "", "case-assignee"],
              ["Request id", h("span", { class: "mono" }, c.request_id)],
              ["Categories", chips(c.categories, categoryLabel)],
            ]),
            excerptBlock(c.excerpt, "case-excerpt")),
          h("section", { "aria-labelledby": "case-decisions", "data-testid": "case-decisions" },
            h("h2", { id: "case-decisions" }, "Decisions on this request"),
            (c.decisions || []).length ? c.decisions.map((d) => decisionCard(d))
              : h("p", { class: "muted" }, "No decisions recorded."))),
        h("aside", { class: "case-side" },
          h("section", { class: "card workflow", "aria-labelledby": "case-workflow", "data-testid": "workflow" },
            h("h2", { id: "case-workflow" }, "Workflow"),
            msg,
            actions.childNodes.length ? actions : null,
            assignForm, noteForm, resolveForm),
          h("section", { class: "card", "aria-labelledby": "case-timeline" },
            h("h2", { id: "case-timeline" }, "Timeline"),
            timeline(c.events)))));
  }

  // ------------------------------------------------------------------ decisions
  function decisionParams() {
    return filterParams(state.views.decisions, DECISION_FILTERS);
  }

  function renderDecisions(root) {
    const st = state.views.decisions;
    const list = pagedTable({
      testid: "decisions-table",
      columns: ["Time", "Tenant", "Model", "Stage", "Action", "Severity", "Categories", "Rules", "Latency", "Case"],
      path: "/decisions",
      noun: "decision",
      empty: "No decisions match these filters.",
      paramsFn: decisionParams,
      row: (d) => rowLink(h("tr", { "data-testid": "decision-row", "data-decision-id": d.id },
        h("td", null, h("a", { href: `#/decisions/${encodeURIComponent(d.id)}`, "data-testid": "decision-link" }, fmtTime(d.time))),
        h("td", null, d.tenant),
        h("td", null, d.model),
        h("td", null, humanize(d.stage)),
        h("td", null, badge("action", d.action)),
        h("td", null, badge("severity", d.severity)),
        h("td", null, chips(d.categories, categoryLabel)),
        h("td", null, chips(d.rules)),
        h("td", { class: "num" }, fmtMs(d.latency_ms && d.latency_ms.total)),
        h("td", null, d.case_id ? h("a", { href: `#/cases/${encodeURIComponent(d.case_id)}`, class: "mono", title: d.case_id }, shortId(d.case_id)) : "")),
      `#/decisions/${encodeURIComponent(d.id)}`),
    });
    const reload = () => list.load(true);
    append(root, [
      h("section", { class: "view", "aria-labelledby": "decisions-title", "data-testid": "decisions-view" },
        viewHeader("Decisions", "decisions-title",
          h("div", { class: "head-actions" },
            h("button", { type: "button", class: "btn btn-small", "data-testid": "refresh", on: { click: reload } }, "Refresh"),
            exportButtons("decisions", decisionParams))),
        filterBar("decisions", DECISION_FILTERS, reload),
        list.el),
    ]);
    focusHeading(root);
    reload();
  }

  async function renderDecision(root, id) {
    const seq = state.seq;
    const container = h("section", { class: "view", "aria-labelledby": "decision-title", "data-testid": "decision-view" },
      h("p", { class: "crumbs" }, h("a", { href: "#/decisions" }, "← Back to decisions")),
      h("p", { class: "muted", role: "status" }, "Loading decision…"));
    root.append(container);
    let d;
    try {
      d = await getJSON(`/decisions/${encodeURIComponent(id)}`);
    } catch (err) {
      if (!stillCurrent(seq) || err.status === 401) return;
      container.lastChild.replaceWith(h("p", { class: "alert alert-error", role: "alert", "data-testid": "not-found" },
        err.status === 404 ? "No such decision, or it belongs to a tenant you may not see." : err.message));
      return;
    }
    if (!stillCurrent(seq)) return;
    container.lastChild.replaceWith(
      h("div", { class: "view-head" }, h("h1", { id: "decision-title", tabindex: "-1" }, `Decision ${d.id}`)),
      h("section", { class: "card" }, dl([
        ["Time", timeEl(d.time)],
        ["Tenant", d.tenant],
        ["Model", d.model],
        ["Request id", h("span", { class: "mono" }, d.request_id)],
        ["Case", d.case_id ? h("a", { href: `#/cases/${encodeURIComponent(d.case_id)}`, class: "mono", "data-testid": "decision-case-link" }, d.case_id) : ""],
      ])),
      decisionCard(d, { withLink: false }));
    focusHeading(root);
  }

  // ------------------------------------------------------------------ charts
  /** The step of the y axis's four whole-number intervals that fit ``value``. */
  function niceStep(value) {
    const raw = Math.max(1, value / 4);
    const exp = 10 ** Math.floor(Math.log10(raw));
    for (const m of [1, 2, 2.5, 5, 10]) {
      const step = m * exp;
      if (step >= raw && Number.isInteger(step)) return step;
    }
    return 10 * exp;
  }

  function bucketLabel(iso, bucket, long) {
    const d = new Date(iso);
    if (bucket === "day") {
      return d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
    }
    return long
      ? d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })
      : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  }

  function seriesColor(by, key, index) {
    if (key === "other") return OTHER_COLOR;
    if (by === "action" && ACTION_COLORS[key]) return ACTION_COLORS[key];
    return PALETTE[index % PALETTE.length];
  }

  function seriesLabel(by, series) {
    if (series.key === "other") return "Other";
    if (by === "principle") return principleLabel(series.key);
    if (by === "category") return categoryLabel(series.key);
    if (series.label && series.label !== series.key) return series.label;
    return humanize(series.key);
  }

  /** A stacked bar chart of ``stats`` (one bar per time bucket) as inline SVG. */
  function stackedBars(stats, title) {
    const by = stats.by;
    const buckets = stats.buckets || [];
    const series = (stats.series || []).map((sr, i) => ({
      ...sr, color: seriesColor(by, sr.key, i), name: seriesLabel(by, sr),
    }));
    const totals = buckets.map((_, i) => series.reduce((sum, sr) => sum + (Number(sr.counts[i]) || 0), 0));
    const grand = totals.reduce((a, b) => a + b, 0);
    // By action every decision counts once; by principle or category once under each it has.
    const perKey = !["action", "severity", "stage"].includes(by);
    const what = perKey ? `count${grand === 1 ? "" : "s"} (a decision counts once under each ${by} it has)`
      : `decision${grand === 1 ? "" : "s"}`;
    const W = 720;
    const H = 260;
    const M = { left: 48, right: 12, top: 14, bottom: 40 };
    const plotW = W - M.left - M.right;
    const plotH = H - M.top - M.bottom;
    const ticks = 4;
    const max = niceStep(Math.max(0, ...totals)) * ticks;
    const y = (v) => M.top + plotH - (v / max) * plotH;
    const step = buckets.length ? plotW / buckets.length : plotW;
    const barW = Math.max(1, Math.min(48, step * 0.72));
    const bucketName = stats.bucket === "hour" ? "hour" : "day";
    const graph = s("svg", {
      viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img",
      "aria-label": `${title}: ${grand} ${what} in ${buckets.length} ${bucketName}s; `
        + series.map((sr) => `${sr.name} ${sr.total}`).join(", "),
      "data-testid": `chart-${by}-svg`,
    });
    for (let i = 0; i <= ticks; i += 1) {
      const v = (max / ticks) * i;
      const yy = y(v);
      graph.append(
        s("line", { x1: M.left, x2: W - M.right, y1: yy, y2: yy, class: i === 0 ? "axis" : "grid" }),
        s("text", { x: M.left - 6, y: yy + 4, class: "tick", "text-anchor": "end" }, String(v)));
    }
    const every = Math.max(1, Math.ceil(buckets.length / 8));
    buckets.forEach((iso, i) => {
      const x = M.left + step * i + (step - barW) / 2;
      let acc = 0;
      series.forEach((sr) => {
        const count = Number(sr.counts[i]) || 0;
        if (!count) return;
        const top = y(acc + count);
        const height = y(acc) - top;
        acc += count;
        graph.append(s("rect", {
          x: x.toFixed(2), y: top.toFixed(2), width: barW.toFixed(2), height: Math.max(0.5, height).toFixed(2),
          fill: sr.color, class: "bar", "data-series": sr.key, "data-count": count,
        }, s("title", null, `${bucketLabel(iso, stats.bucket, true)} · ${sr.name}: ${count}`)));
      });
      if (i % every === 0) {
        graph.append(s("text", { x: (M.left + step * i + step / 2).toFixed(2), y: H - M.bottom + 16, class: "tick", "text-anchor": "middle" },
          bucketLabel(iso, stats.bucket, false)));
      }
    });
    if (!grand) {
      graph.append(s("text", { x: W / 2, y: H / 2, class: "empty", "text-anchor": "middle" }, "No decisions in this range"));
    }
    const legend = h("ul", { class: "legend", "aria-label": "Legend" }, series.map((sr) => {
      const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = sr.color;
      return h("li", { "data-testid": "legend-item" }, swatch, h("span", null, sr.name), h("span", { class: "muted" }, ` ${sr.total}`));
    }));
    const table = h("details", { class: "chart-data" }, h("summary", null, "Show the numbers"),
      h("div", { class: "table-wrap" }, h("table", { class: "table compact" },
        h("thead", null, h("tr", null, h("th", { scope: "col" }, humanize(bucketName)),
          series.map((sr) => h("th", { scope: "col" }, sr.name)), h("th", { scope: "col" }, "Total"))),
        h("tbody", null, buckets.map((iso, i) => h("tr", null,
          h("th", { scope: "row" }, bucketLabel(iso, stats.bucket, true)),
          series.map((sr) => h("td", { class: "num" }, String(sr.counts[i] || 0))),
          h("td", { class: "num" }, String(totals[i]))))))));
    return h("figure", { class: "card chart", "data-testid": `chart-${by}` },
      h("figcaption", null, h("h2", null, title),
        h("p", { class: "muted" }, `${grand} ${what} · per ${bucketName}`
          + `${stats.bucket === "day" ? " (UTC)" : ""} · ${fmtTime(stats.since)} – ${fmtTime(stats.until)}`)),
      graph, legend, table);
  }

  function renderCharts(root) {
    const st = state.views.charts;
    const grid = h("div", { class: "charts", "data-testid": "charts" });
    const status = h("p", { class: "muted", role: "status" });
    let token = 0;
    const seq = state.seq;
    const load = async () => {
      const mine = ++token;
      const params = filterParams(st, DECISION_FILTERS);
      const preset = RANGES.find(([value]) => value === st.range);
      let bucket = st.bucket;
      if (bucket === "auto") {
        const hours = st.range === "custom" && st.since
          ? (Date.parse(st.until || new Date().toISOString()) - Date.parse(st.since)) / 3600e3
          : preset && preset[2];
        bucket = hours && hours <= 48 ? "hour" : "day";
      }
      params.set("bucket", bucket);
      status.textContent = "Loading charts…";
      const charts = [["action", "Decisions by action"], ["principle", "Decisions by AMA principle"],
        ["category", "Decisions by category"]];
      let results;
      try {
        results = await Promise.all(charts.map(([by]) => {
          const p = new URLSearchParams(params);
          p.set("by", by);
          return getJSON("/stats", { params: p });
        }));
      } catch (err) {
        if (mine !== token || !stillCurrent(seq)) return;
        status.textContent = "";
        if (err.status !== 401) showAppError(err.message);
        return;
      }
      if (mine !== token || !stillCurrent(seq)) return;
      showAppError("");
      status.textContent = "";
      clear(grid).append(...results.map((stats, i) => stackedBars({ ...stats, by: charts[i][0] }, charts[i][1])));
    };
    const bucketSel = h("select", {
      "data-testid": "chart-bucket",
      on: { change: (e) => { st.bucket = e.target.value; load(); } },
    }, [["auto", "Automatic"], ["hour", "Per hour"], ["day", "Per day"]].map(([value, label]) =>
      h("option", { value, selected: st.bucket === value }, label)));
    append(root, [
      h("section", { class: "view", "aria-labelledby": "charts-title", "data-testid": "charts-view" },
        viewHeader("Decisions over time", "charts-title",
          h("div", { class: "head-actions" },
            h("button", { type: "button", class: "btn btn-small", "data-testid": "refresh", on: { click: load } }, "Refresh"))),
        filterBar("charts", DECISION_FILTERS, load, {
          ranges: RANGES.filter(([value]) => value !== "all"),
          extra: [field("Buckets", bucketSel)],
        }),
        status, grid),
    ]);
    focusHeading(root);
    load();
  }

  // ------------------------------------------------------------------ start
  function start() {
    $("signin-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const key = $("signin-key").value.trim();
      if (!key) {
        showSignin("Enter your review key.");
        return;
      }
      const button = e.target.querySelector("button[type=submit]");
      button.disabled = true;
      signIn(key, false).finally(() => { button.disabled = false; });
    });
    $("signout").addEventListener("click", () => {
      signOut("");
      history.replaceState(null, "", location.pathname);
    });
    window.addEventListener("hashchange", route);
    document.addEventListener("click", (e) => {
      for (const open of document.querySelectorAll("details.ms[open]")) {
        if (!open.contains(e.target)) open.open = false;
      }
    });
    const stored = sessionStorage.getItem(KEY_STORE);
    if (stored) signIn(stored, true);
    else showSignin("");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
