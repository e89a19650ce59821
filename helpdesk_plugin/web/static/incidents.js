// Incidents page (supervisors): declare, close, link tickets, broadcast an approved text, bulk tags.
// Every value from the API is put in the page with textContent; incident titles and texts are typed
// by people and shown to customers, so they are treated like customer text.
"use strict";
(function () {
  if (document.body.dataset.page !== "incidents" || !window.RecoveryDesk) return;
  const { el, api, say, shortTime, words } = window.RecoveryDesk;
  const ANSWER_LABELS = {
    am_i_affected: "Am I affected?",
    what_data: "What data was exposed?",
    what_to_do: "What should customers do?",
    update: "Update",
  };
  const list = document.getElementById("incident-list");
  const notices = new Map(); // incident id → the last action's result, shown on its card after a reload

  function ids(text) {
    return String(text || "").split(/[\s,;]+/).filter(Boolean);
  }

  function utc(value) {
    const shown = shortTime(value);
    return shown ? shown + " UTC" : "";
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  function setStatus(holder, text, kind) {
    holder.replaceChildren(el("span", "status__text status__text--" + (kind || "info"), text));
  }

  // Runs one API call for a form: the button is busy meanwhile, errors are shown as text next to it.
  async function busy(button, output, run) {
    button.disabled = true;
    try {
      return await run();
    } catch (err) {
      setStatus(output, err.message, "error");
      return null;
    } finally {
      button.disabled = false;
    }
  }

  function resultText(verb, result) {
    const parts = [];
    if ((result.changed || []).length) parts.push(verb + " " + result.changed.join(", ") + ".");
    if ((result.not_found || []).length) parts.push("No such ticket: " + result.not_found.join(", ") + ".");
    return parts.join(" ") || "Nothing changed.";
  }

  // ------------------------------------------------------------ one incident

  function fact(dl, term, value) {
    dl.appendChild(el("dt", "", term));
    const dd = el("dd");
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = value;
    dl.appendChild(dd);
  }

  function linkedTickets(tickets) {
    const holder = el("span", "linked");
    holder.dataset.field = "open-tickets";
    holder.appendChild(el("span", "linked__count", String(tickets.length)));
    for (const ticket of tickets.slice(0, 20)) {
      const link = el("a", "linked__id", ticket.id);
      link.href = "/console/tickets/" + encodeURIComponent(ticket.id);
      holder.appendChild(document.createTextNode(" "));
      holder.appendChild(link);
    }
    if (tickets.length > 20) holder.appendChild(document.createTextNode(" …"));
    return holder;
  }

  // A question with "yes" and "cancel" in place of the form's own button, so nothing is sent by one click.
  function confirmStep(form, question, yesLabel, onYes) {
    const trigger = form.querySelector("button[type=submit]");
    const box = el("div", "confirm");
    box.setAttribute("role", "alertdialog");
    box.appendChild(el("p", "confirm__text", question));
    const yes = el("button", "button button--danger confirm__yes", yesLabel);
    yes.type = "button";
    const no = el("button", "button button--quiet confirm__no", "Cancel");
    no.type = "button";
    box.append(yes, no);
    trigger.hidden = true;
    form.appendChild(box);
    const done = () => {
      box.remove();
      trigger.hidden = false;
      trigger.focus();
    };
    no.addEventListener("click", done);
    yes.addEventListener("click", async () => {
      yes.disabled = no.disabled = true;
      await onYes();
      done();
    });
    yes.focus();
  }

  function linkForm(incident, output) {
    const form = el("form", "inline-form link-form");
    const label = el("label", "", "Link tickets ");
    const input = el("input");
    input.name = "ticket_ids";
    input.placeholder = "RD-12 RD-15";
    input.required = true;
    input.maxLength = 20000;
    label.appendChild(input);
    const button = el("button", "button", "Link");
    button.type = "submit";
    form.append(label, button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = ids(input.value);
      if (!chosen.length) return setStatus(output, "Give at least one ticket id.", "error");
      const result = await busy(button, output, () =>
        api("POST", "/api/v1/incidents/" + encodeURIComponent(incident.id) + "/link", { ticket_ids: chosen })
      );
      if (result) reload({ id: incident.id, text: resultText("Linked", result), kind: "ok" });
    });
    return form;
  }

  function broadcastForm(incident, openCount, output) {
    const form = el("form", "inline-form broadcast-form");
    const label = el("label", "", "Send to every open ticket ");
    const select = el("select");
    select.name = "answer";
    for (const key of Object.keys(incident.answers || {})) {
      const option = el("option", "", ANSWER_LABELS[key] || words(key));
      option.value = key;
      select.appendChild(option);
    }
    if (incident.answers && incident.answers.update) select.value = "update";
    label.appendChild(select);
    const button = el("button", "button button--primary", "Send…");
    button.type = "submit";
    form.append(label, button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (form.querySelector(".confirm")) return;
      const key = select.value;
      const question =
        "Send “" + incident.answers[key] + "” to the chat of " + plural(openCount, "open ticket") +
        " linked to " + incident.id + "?";
      confirmStep(form, question, "Yes, send it", async () => {
        const result = await busy(button, output, () =>
          api("POST", "/api/v1/incidents/" + encodeURIComponent(incident.id) + "/broadcast", { answer: key })
        );
        if (!result) return;
        const sent = result.sent || [];
        const failed = result.failed || [];
        let text = sent.length ? "Sent to " + plural(sent.length, "ticket") + ": " + sent.join(", ") + "." : "";
        if (failed.length) text += (text ? " " : "") + "Could not reach: " + failed.join(", ") + ".";
        reload({
          id: incident.id,
          text: text || "No open ticket is linked to this incident; nothing was sent.",
          kind: failed.length ? "error" : "ok",
        });
      });
    });
    return form;
  }

  function closeForm(incident, output) {
    const form = el("form", "inline-form close-form");
    const button = el("button", "button button--danger", "Close incident…");
    button.type = "submit";
    form.appendChild(button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (form.querySelector(".confirm")) return;
      const question = "Close " + incident.id + "? The bot goes back to its standing answer about breaches.";
      confirmStep(form, question, "Yes, close it", async () => {
        const result = await busy(button, output, () =>
          api("POST", "/api/v1/incidents/" + encodeURIComponent(incident.id) + "/close", {})
        );
        if (result) reload({ id: incident.id, text: "Closed.", kind: "ok" });
      });
    });
    return form;
  }

  function incidentCard(incident, openTickets) {
    const card = el("li", "card incident incident--" + incident.status);
    card.dataset.id = incident.id;
    const head = el("div", "incident__head");
    head.appendChild(el("h2", "incident__title", incident.title));
    head.appendChild(el("span", "badge badge--incident-" + incident.status, incident.status));
    head.appendChild(el("code", "incident__id", incident.id));
    card.appendChild(head);

    const facts = el("dl", "facts");
    fact(facts, "Started", utc(incident.started_at));
    fact(facts, "Owner", incident.owner);
    fact(facts, "Declared by", incident.declared_by + (incident.declared_at ? " · " + utc(incident.declared_at) : ""));
    if (incident.closed_at) fact(facts, "Closed", utc(incident.closed_at));
    fact(facts, "Exposed data", (incident.exposed_data || []).map(words).join(", ") || "none named");
    fact(facts, "Open tickets", openTickets ? linkedTickets(openTickets) : "could not be counted");
    fact(facts, "Ticket tag", incident.tag);
    card.appendChild(facts);

    card.appendChild(el("h3", "", "Approved answers"));
    const answers = el("dl", "facts answers");
    for (const [key, text] of Object.entries(incident.answers || {})) fact(answers, ANSWER_LABELS[key] || words(key), text);
    card.appendChild(answers);

    const output = el("p", "form-status");
    output.setAttribute("role", "status");
    const actions = el("div", "incident__actions");
    actions.append(linkForm(incident, output), broadcastForm(incident, openTickets ? openTickets.length : 0, output));
    if (incident.status === "active") actions.appendChild(closeForm(incident, output));
    card.append(actions, output);
    const notice = notices.get(incident.id);
    if (notice) setStatus(output, notice.text, notice.kind);
    return card;
  }

  // ------------------------------------------------------------ the list

  let queue = Promise.resolve(); // reloads run one after another, so the last one shows the newest state

  async function load() {
    let incidents;
    try {
      incidents = (await api("GET", "/api/v1/incidents")).incidents || [];
    } catch (err) {
      list.replaceChildren(el("li", "empty", "The incidents could not be loaded: " + err.message));
      return;
    }
    let open = null; // open tickets by incident tag; the counts are left out if the queue cannot be read
    try {
      open = new Map();
      for (const ticket of (await api("GET", "/api/v1/tickets")).tickets || []) {
        for (const tag of ticket.tags || []) {
          if (!open.has(tag)) open.set(tag, []);
          open.get(tag).push(ticket);
        }
      }
    } catch (err) {
      open = null;
      say("Open tickets could not be counted: " + err.message, "error");
    }
    incidents.sort((a, b) => (a.status === "active" ? 0 : 1) - (b.status === "active" ? 0 : 1)); // stable: newest first within
    const cards = incidents.map((incident) => incidentCard(incident, open ? open.get(incident.tag) || [] : null));
    list.replaceChildren(...(cards.length ? cards : [el("li", "empty", "No incidents declared.")]));
  }

  function reload(notice) {
    if (notice) notices.set(notice.id, notice);
    queue = queue.then(load, load);
    return queue;
  }

  // ------------------------------------------------------------ declare and bulk tags

  function startedAt(value) {
    if (!value) return null;
    const moment = new Date(value); // datetime-local is the supervisor's local time
    return Number.isNaN(moment.getTime()) ? null : moment.toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  const declare = document.getElementById("declare-form");
  declare.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(declare);
    const output = declare.querySelector(".form-status");
    const answers = {};
    for (const key of Object.keys(ANSWER_LABELS)) {
      const text = String(data.get("answer_" + key) || "").trim();
      if (text) answers[key] = text;
    }
    const payload = {
      title: String(data.get("title") || ""),
      owner: String(data.get("owner") || ""),
      answers: answers,
      exposed_data: data.getAll("exposed_data").map(String),
    };
    const started = startedAt(String(data.get("started_at") || ""));
    if (data.get("started_at") && !started) return setStatus(output, "The start time is not a valid time.", "error");
    if (started) payload.started_at = started;
    const incident = await busy(declare.querySelector("button[type=submit]"), output, () =>
      api("POST", "/api/v1/incidents", payload)
    );
    if (!incident) return;
    declare.reset();
    setStatus(output, "Declared " + incident.id + ".", "ok");
    reload({ id: incident.id, text: "Declared; the bot now gives its approved answers.", kind: "ok" });
  });

  const bulk = document.getElementById("bulk-tag-form");
  bulk.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(bulk);
    const output = bulk.querySelector(".form-status");
    const chosen = ids(data.get("ticket_ids"));
    const add = ids(data.get("add"));
    const remove = ids(data.get("remove"));
    if (!chosen.length) return setStatus(output, "Give at least one ticket id.", "error");
    if (!add.length && !remove.length) return setStatus(output, "Give a tag to add or to remove.", "error");
    const result = await busy(bulk.querySelector("button[type=submit]"), output, () =>
      api("POST", "/api/v1/bulk/tags", { ticket_ids: chosen, add: add, remove: remove })
    );
    if (!result) return;
    setStatus(output, resultText("Tagged", result), result.changed.length ? "ok" : "error");
    reload();
  });

  document.getElementById("incidents-refresh").addEventListener("click", () => reload());
  reload();
})();
