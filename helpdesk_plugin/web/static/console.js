// Agent console: SLA clocks, live queue and ticket updates (SSE), and the ticket actions.
// Every value from the API is put in the page with textContent: customer text is hostile.
"use strict";
(function () {
  const body = document.body;
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = meta ? meta.content : "";
  const OWNER_LABELS = { bot: "With the bot", pending_agent: "Waiting for an agent" };
  const OPEN_STATUSES = ["new", "open", "pending"];

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function words(value) {
    return String(value || "").replace(/_/g, " ");
  }

  function isoMatch(value) {
    return /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/.exec(value || "");
  }

  function shortTime(value) {
    const m = isoMatch(value);
    return m ? m[1] + " " + m[2] : "";
  }

  function clockTime(value) {
    const m = isoMatch(value);
    return m ? m[2] : "";
  }

  function ownerText(control) {
    control = control || {};
    if (control.owner === "agent") return "Held by " + (control.agent || "an agent");
    return OWNER_LABELS[control.owner] || "With the bot";
  }

  function ownerShort(control) {
    control = control || {};
    if (control.owner === "agent") return control.agent || "agent";
    return control.owner === "pending_agent" ? "waiting for agent" : "bot";
  }

  function fullTime(value) {
    return String(value || "").replace("T", " ").replace("Z", "");
  }

  // ------------------------------------------------------------ status area and API calls

  const statusArea = document.getElementById("status");

  function say(text, kind) {
    if (!statusArea) return;
    statusArea.replaceChildren(el("span", "status__text status__text--" + (kind || "info"), text));
  }

  let sessionEnded = false;

  function signedOut() {
    sessionEnded = true;
    if (!statusArea) return;
    const link = el("a", "", "Sign in again");
    link.href = "/console/login";
    statusArea.replaceChildren(el("span", "status__text status__text--error", "Your session has ended. "), link);
  }

  class ApiFailure extends Error {}

  async function api(method, path, payload) {
    const init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = csrfToken;
      init.body = JSON.stringify(payload || {});
    }
    let reply;
    try {
      reply = await fetch(path, init);
    } catch (err) {
      throw new ApiFailure("The helpdesk cannot be reached; check your connection.");
    }
    let data = null;
    try {
      data = await reply.json();
    } catch (err) {
      data = null;
    }
    if (reply.status === 401) signedOut();
    if (!reply.ok) {
      const message = data && data.error && data.error.message;
      throw new ApiFailure(message || "The helpdesk answered with status " + reply.status + ".");
    }
    return data;
  }

  // ------------------------------------------------------------ SLA clocks

  function clock(seconds) {
    const abs = Math.abs(seconds);
    const h = Math.floor(abs / 3600);
    const m = Math.floor((abs % 3600) / 60);
    const s = abs % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function tickClocks() {
    const now = Date.now();
    for (const node of document.querySelectorAll("time.sla[data-due]")) {
      const due = Date.parse(node.dataset.due);
      if (Number.isNaN(due)) continue;
      const left = Math.round((due - now) / 1000);
      node.textContent = left >= 0 ? clock(left) + " left" : "overdue " + clock(left);
      node.classList.toggle("sla--overdue", left < 0);
      node.classList.toggle("sla--soon", left >= 0 && left < 600);
    }
  }

  function slaNode(ticket) {
    if (OPEN_STATUSES.indexOf(ticket.status) < 0) {
      const done = el("span", "sla sla--done", "—");
      done.title = "The ticket is closed";
      return done;
    }
    const node = el("time", "sla", "");
    node.dataset.due = ticket.sla_due_at || "";
    node.dateTime = ticket.sla_due_at || "";
    return node;
  }

  // ------------------------------------------------------------ badges

  function badge(kind, value, label) {
    return el("span", "badge badge--" + kind + "-" + value, label || value);
  }

  function verificationBadge(level, large) {
    const node = el("span", "verif verif--" + level + (large ? " verif--large" : ""), large ? "Verification: " + level : level);
    node.dataset.field = "verification";
    return node;
  }

  function levelOf(ticket) {
    return ((ticket.customer || {}).verification || {}).level || "none";
  }

  // ------------------------------------------------------------ live connections

  const liveBadge = document.getElementById("live");

  function setLive(on) {
    if (!liveBadge) return;
    liveBadge.dataset.state = on ? "on" : "off";
    liveBadge.textContent = on ? "Live" : "Reconnecting…";
  }

  // Keeps one EventSource open; onOpen(again) lets the page catch up after a gap.
  function live(url, handlers, onOpen) {
    let delay = 1000;
    let opened = 0;
    function connect() {
      const source = new EventSource(url, { withCredentials: true });
      source.addEventListener("open", () => {
        setLive(true);
        delay = 1000;
        onOpen(opened++ > 0);
      });
      for (const name of Object.keys(handlers)) {
        source.addEventListener(name, (event) => {
          let data;
          try {
            data = JSON.parse(event.data);
          } catch (err) {
            return;
          }
          handlers[name](data);
        });
      }
      source.addEventListener("error", () => {
        setLive(false);
        if (source.readyState === EventSource.CLOSED) setTimeout(retry, delay);
      });
    }
    async function retry() {
      delay = Math.min(delay * 2, 30000);
      try {
        await api("GET", "/api/v1/me");
      } catch (err) {
        // Only an ended session stops the retries; the status area says why.
      }
      if (!sessionEnded) connect();
    }
    connect();
  }

  // ------------------------------------------------------------ queue page

  function queueRow(ticket) {
    const row = el("tr");
    row.dataset.id = ticket.id;
    const link = el("a", "", ticket.id);
    link.href = "/console/tickets/" + encodeURIComponent(ticket.id);
    const created = el("time", "", shortTime(ticket.created_at));
    created.dateTime = ticket.created_at || "";
    const cells = [
      link,
      badge("priority", ticket.priority),
      badge("status", ticket.status),
      document.createTextNode(words(ticket.category)),
      document.createTextNode(ticket.channel || ""),
      badge("lang", ticket.language || "en", (ticket.language || "en").toUpperCase()),
      verificationBadge(levelOf(ticket), false),
      document.createTextNode(ownerShort(ticket.control)),
      slaNode(ticket),
      created,
    ];
    for (const content of cells) {
      const cell = el("td");
      cell.appendChild(content);
      row.appendChild(cell);
    }
    return row;
  }

  function queueQuery() {
    const here = new URLSearchParams(location.search);
    const query = new URLSearchParams();
    for (const name of ["status", "priority", "language"]) {
      if (here.get(name)) query.set(name, here.get(name));
    }
    const text = query.toString();
    return text ? "?" + text : "";
  }

  function initQueue() {
    const rows = document.getElementById("queue-rows");
    const filters = document.getElementById("filters");
    let pending = null;

    async function reload() {
      pending = null;
      let data;
      try {
        data = await api("GET", "/api/v1/tickets" + queueQuery());
      } catch (err) {
        say(err.message, "error");
        return;
      }
      const known = new Set(Array.from(rows.querySelectorAll("tr[data-id]"), (r) => r.dataset.id));
      const fresh = (data.tickets || []).map((ticket) => {
        const row = queueRow(ticket);
        if (!known.has(ticket.id)) row.classList.add("row--fresh");
        return row;
      });
      if (!fresh.length) {
        const cell = el("td", "", "No tickets match.");
        cell.colSpan = 9;
        const empty = el("tr", "empty");
        empty.appendChild(cell);
        fresh.push(empty);
      }
      rows.replaceChildren(...fresh);
      tickClocks();
    }

    function schedule() {
      if (!pending) pending = setTimeout(reload, 250);
    }

    if (filters) {
      for (const select of filters.querySelectorAll("select")) {
        select.addEventListener("change", () => filters.submit());
      }
    }
    live("/api/v1/events", { queue: schedule }, (again) => {
      if (again) schedule();
    });
  }

  // ------------------------------------------------------------ ticket page

  function initTicket() {
    const ticketId = body.dataset.ticketId;
    const me = body.dataset.agent;
    const base = "/api/v1/tickets/" + encodeURIComponent(ticketId);
    const transcript = document.getElementById("transcript");
    const shown = new Map(); // line key → lines on the page
    const announced = new Map(); // line key → lines seen as message events or first render

    function lineKey(role, text) {
      return role + "\u0000" + text;
    }

    for (const line of transcript.querySelectorAll(".line")) {
      const key = lineKey(line.dataset.role, line.querySelector(".line__text").textContent);
      shown.set(key, (shown.get(key) || 0) + 1);
      announced.set(key, (announced.get(key) || 0) + 1);
    }

    function renderLine(line) {
      const role = ["customer", "bot", "agent"].indexOf(line.role) >= 0 ? line.role : "bot";
      const item = el("li", "line line--" + role);
      item.dataset.role = role;
      const metaRow = el("div", "line__meta");
      metaRow.appendChild(el("span", "line__who", role));
      const at = el("time", "line__at", clockTime(line.at));
      at.dateTime = line.at || "";
      metaRow.appendChild(at);
      item.appendChild(metaRow);
      item.appendChild(el("p", "line__text", line.text || ""));
      const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
      transcript.appendChild(item);
      if (nearBottom) transcript.scrollTop = transcript.scrollHeight;
      const key = lineKey(role, line.text || "");
      shown.set(key, (shown.get(key) || 0) + 1);
    }

    // A message event is new unless a ticket snapshot already showed that line.
    function onMessage(line) {
      const key = lineKey(line.role, line.text || "");
      const seen = (announced.get(key) || 0) + 1;
      announced.set(key, seen);
      if (seen > (shown.get(key) || 0)) renderLine(line);
    }

    // A snapshot adds the lines the page has not shown (missed while disconnected).
    function catchUp(lines) {
      const counts = new Map();
      for (const line of lines || []) {
        const key = lineKey(line.role, line.text || "");
        counts.set(key, (counts.get(key) || 0) + 1);
        if (counts.get(key) > (shown.get(key) || 0)) renderLine(line);
      }
    }

    function setField(name, node) {
      const holder = document.querySelector('[data-field="' + name + '"]');
      if (holder) holder.replaceChildren(node);
    }

    function fillList(name, items) {
      const list = document.querySelector('ul[data-field="' + name + '"]');
      if (!list) return;
      const rows = (items || []).map((item) => el("li", "", item));
      list.replaceChildren(...(rows.length ? rows : [el("li", "empty", list.dataset.empty)]));
    }

    function renderTags(tags) {
      const list = document.getElementById("tags");
      list.replaceChildren(
        ...(tags || []).map((tag) => {
          const chip = el("li", "tag");
          chip.appendChild(el("span", "", tag));
          const remove = el("button", "tag__remove", "×");
          remove.type = "button";
          remove.dataset.tag = tag;
          remove.setAttribute("aria-label", "Remove tag " + tag);
          chip.appendChild(remove);
          return chip;
        })
      );
    }

    function applyControl(ticket) {
      const open = OPEN_STATUSES.indexOf(ticket.status) >= 0;
      const control = ticket.control || {};
      const mine = control.owner === "agent" && control.agent === me;
      document.getElementById("owner").textContent = ownerText(control);
      document.getElementById("claim-form").hidden = mine || !open;
      for (const id of ["message-form", "handback-form"]) {
        document.querySelector("#" + id + " fieldset").disabled = !(mine && open);
      }
      const resolve = document.querySelector("#resolve-form fieldset");
      if (resolve) resolve.disabled = !open;
    }

    // The bot adds the verified account and the marked activity while the team joins (live).
    function applyCustomer(ticket) {
      const customer = ticket.customer || {};
      const verification = customer.verification || {};
      const name = document.querySelector('[data-field="customer_name"]');
      if (name) name.textContent = customer.display_name_masked || "unknown";
      const ref = document.querySelector('[data-field="account_ref"]');
      if (ref) ref.textContent = customer.account_ref || "not linked";
      const methods = document.querySelector('[data-field="verified_by"]');
      if (methods) methods.textContent = (verification.methods || []).join(", ") || "none";
      const activity = document.querySelector('ul[data-field="reported_activity"]');
      if (activity) {
        const rows = (ticket.reported_activity || []).map((entry) =>
          el("li", "", Object.keys(entry).map((key) => key.replace(/_/g, " ") + " " + entry[key]).join(" · "))
        );
        activity.replaceChildren(...(rows.length ? rows : [el("li", "empty", "None reported.")]));
      }
      const notice = document.getElementById("unverified-notice");
      if (notice) notice.hidden = Boolean(customer.account_ref) && (verification.level || "none") !== "none";
    }

    function applyTicket(ticket) {
      if (!ticket || ticket.id !== ticketId) return;
      const head = document.querySelector(".ticket-head__title");
      const current = head.querySelector('[data-field="verification"]');
      current.replaceWith(verificationBadge(levelOf(ticket), true));
      setField("priority", badge("priority", ticket.priority, ticket.priority + " priority"));
      setField("status", badge("status", ticket.status));
      const sla = document.querySelector('[data-field="sla"]');
      sla.replaceChildren(document.createTextNode("SLA "), slaNode(ticket));
      setField("summary", document.createTextNode(ticket.summary || "No summary."));
      fillList("suspicious_ips", ticket.suspicious_ips);
      fillList("actions_taken", ticket.actions_taken);
      applyCustomer(ticket);
      renderTags(ticket.tags);
      applyControl(ticket);
      catchUp(ticket.transcript);
      tickClocks();
    }

    async function refreshTicket() {
      try {
        applyTicket(await api("GET", base));
      } catch (err) {
        say(err.message, "error");
      }
    }

    async function loadNotes() {
      const list = document.getElementById("notes");
      let data;
      try {
        data = await api("GET", base + "/notes");
      } catch (err) {
        list.replaceChildren(el("li", "empty", "Notes could not be loaded: " + err.message));
        return;
      }
      const notes = (data.notes || []).map((note) => {
        const item = el("li", "note");
        item.appendChild(el("div", "note__meta", (note.author || "") + " · " + shortTime(note.at) + " UTC"));
        item.appendChild(el("p", "note__text", note.text || ""));
        return item;
      });
      list.replaceChildren(...(notes.length ? notes : [el("li", "empty", "No notes yet.")]));
    }

    async function loadAudit() {
      const rows = document.getElementById("audit-rows");
      if (!rows) return;
      let data;
      try {
        data = await api("GET", base + "/audit");
      } catch (err) {
        const cell = el("td", "", "The audit trail could not be loaded: " + err.message);
        cell.colSpan = 4;
        const row = el("tr");
        row.appendChild(cell);
        rows.replaceChildren(row);
        return;
      }
      rows.replaceChildren(
        ...(data.entries || []).map((entry) => {
          const detail = Object.keys(entry)
            .filter((k) => ["at", "action", "actor", "ticket_id"].indexOf(k) < 0)
            .map((k) => k + "=" + entry[k])
            .join(" ");
          const row = el("tr");
          for (const text of [fullTime(entry.at), entry.action, entry.actor, detail]) row.appendChild(el("td", "", text));
          return row;
        })
      );
    }

    // Wires a form to an API call; the form's button is busy while the call runs.
    function onSubmit(id, run, done) {
      const form = document.getElementById(id);
      if (!form) return;
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const button = form.querySelector("button[type=submit]");
        if (button) button.disabled = true;
        try {
          const result = await run(new FormData(form));
          form.reset();
          done(result);
        } catch (err) {
          say(err.message, "error");
        } finally {
          if (button) button.disabled = false;
        }
      });
    }

    onSubmit("claim-form", () => api("POST", base + "/claim", {}), (ticket) => {
      applyTicket(ticket);
      say("You hold this conversation; the bot is paused.", "ok");
    });
    onSubmit("message-form", (form) => api("POST", base + "/messages", { text: form.get("text") }), () =>
      say("Sent.", "ok")
    );
    onSubmit("handback-form", (form) => api("POST", base + "/handback", { summary: form.get("summary") }), (ticket) => {
      applyTicket(ticket);
      say("Handed back; the bot answers the customer again.", "ok");
    });
    onSubmit("resolve-form", (form) => api("POST", base + "/resolve", { resolution: form.get("resolution") }), (ticket) => {
      applyTicket(ticket);
      say("Resolved; the customer is told.", "ok");
    });
    onSubmit("note-form", (form) => api("POST", base + "/notes", { text: form.get("text") }), () => {
      say("Note added.", "ok");
      loadNotes();
    });
    onSubmit(
      "tag-form",
      (form) => {
        const add = String(form.get("tags") || "").split(/[\s,]+/).filter(Boolean);
        return api("POST", base + "/tags", { add: add, remove: [] });
      },
      (ticket) => {
        applyTicket(ticket);
        say("Tags saved.", "ok");
      }
    );

    document.getElementById("tags").addEventListener("click", async (event) => {
      const button = event.target.closest("button.tag__remove");
      if (!button) return;
      button.disabled = true;
      try {
        applyTicket(await api("POST", base + "/tags", { add: [], remove: [button.dataset.tag] }));
        say("Tag removed.", "ok");
      } catch (err) {
        button.disabled = false;
        say(err.message, "error");
      }
    });

    const reply = document.querySelector("#message-form textarea");
    reply.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        document.getElementById("message-form").requestSubmit();
      }
    });

    const auditRefresh = document.getElementById("audit-refresh");
    if (auditRefresh) auditRefresh.addEventListener("click", loadAudit);

    transcript.scrollTop = transcript.scrollHeight;
    loadNotes();
    loadAudit();
    live(base + "/events", { message: onMessage, ticket: applyTicket }, (again) => {
      if (again) refreshTicket();
    });
  }

  // Page scripts loaded after this one (incidents.js) share the API client and the helpers.
  window.RecoveryDesk = Object.freeze({ el: el, api: api, say: say, shortTime: shortTime, words: words });

  tickClocks();
  setInterval(tickClocks, 1000);
  if (body.dataset.page === "queue") initQueue();
  if (body.dataset.page === "ticket") initTicket();
})();
