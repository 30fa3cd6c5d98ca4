// The agent console page: login, live queue (server-sent events), one conversation at a time.
// Every text from the server is put in with textContent, never as HTML.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  let T = {};
  let FLAGS = {};
  let csrf = "";
  let me = null;
  let current = null; // conversation id on screen
  let view = null; // its last view
  let stream = null;
  let countdown = null;
  let intents = []; // [{name, label}] for corrections
  let shownPhotos = ""; // ids of the photos on screen

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };
  const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" }) : "");
  const channelLabel = (c) => T["channel_" + c] || c;

  async function api(method, path, body) {
    const headers = {};
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { /* empty body */ }
    if (response.status === 401 && path !== "/api/login") showLogin(T.session_ended);
    return { status: response.status, ok: response.ok, data };
  }

  function notice(text, failed) {
    const node = $("notice");
    node.textContent = text || "";
    node.classList.toggle("failed", !!failed);
  }

  function failure(result) {
    if (result.data.error === "taken_by_other") return T.someone_else + result.data.owner;
    if (result.data.error === "wechat_window_closed") return T.wechat_closed;
    return T.failed + (result.data.error || result.status);
  }

  // ------------------------------------------------------------------ login

  function showLogin(message) {
    if (stream) { stream.close(); stream = null; }
    if (countdown) { clearInterval(countdown); countdown = null; }
    me = null; csrf = ""; current = null; view = null;
    // Nothing of the previous agent's work stays on screen for the next one.
    $("conversation").hidden = true;
    $("no-conversation").hidden = false;
    for (const id of ["transcript", "steps", "suggestions", "case-card", "assist-answer", "queue", "photos"]) $(id).replaceChildren();
    $("photos-box").hidden = true; shownPhotos = "";
    $("situation-title").textContent = "";
    $("reply-text").value = ""; $("release-summary").value = "";
    $("case-form").hidden = true; $("open-case-form").hidden = true; $("lead-box").hidden = true;
    document.querySelector(".who").hidden = true;
    $("app-view").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
  }

  function showApp(account) {
    me = account.username; csrf = account.csrf_token;
    $("me").textContent = account.username;
    document.querySelector(".who").hidden = false;
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    listen();
    $("lead-box").hidden = account.role !== "lead";
    if (account.role === "lead") refreshLead();
    api("GET", "/api/intents").then((result) => { if (result.ok) intents = result.data.intents; });
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await api("POST", "/api/login", {
      username: $("username").value, password: $("password").value,
    });
    $("password").value = "";
    if (result.ok) showApp(result.data);
    else $("login-error").textContent = result.status === 429 ? T.login_limited : T.login_failed;
  });

  $("logout").addEventListener("click", async () => {
    await api("POST", "/api/logout");
    showLogin("");
  });

  // ------------------------------------------------------------------ live updates

  function listen() {
    if (stream) stream.close();
    const query = current ? "?conversation=" + encodeURIComponent(current) : "";
    stream = new EventSource("/api/events" + query);
    stream.addEventListener("queue", (event) => renderQueue(JSON.parse(event.data).handoffs));
    stream.addEventListener("conversation", (event) => {
      const data = JSON.parse(event.data);
      if (!data.closed && data.handoff && data.handoff.conversation_id === current) renderConversation(data);
    });
    stream.addEventListener("session_ended", () => showLogin(T.session_ended));
    // The browser reconnects by itself after a network drop; a refused stream (401) stays closed.
    stream.addEventListener("error", () => {
      if (stream && stream.readyState === EventSource.CLOSED) {
        setTimeout(async () => { if ((await api("GET", "/api/me")).ok) listen(); }, 2000);
      }
    });
  }

  function renderQueue(entries) {
    const list = $("queue");
    list.replaceChildren();
    $("queue-empty").hidden = entries.length > 0;
    for (const entry of entries) {
      const item = el("li", "queue-item" + (entry.conversation_id === current ? " selected" : ""));
      item.dataset.conversation = entry.conversation_id;
      const line = el("div", "line");
      line.append(el("span", "badge " + entry.status, entry.status === "taken" ? T.taken : T.waiting));
      line.append(el("span", "badge", channelLabel(entry.channel)));
      if (entry.topic_label) line.append(el("span", "badge", entry.topic_label));
      for (const flag of entry.flags) line.append(el("span", "badge flag", FLAGS[flag] || flag));
      const minutes = Math.max(0, Math.floor((Date.now() - new Date(entry.since)) / 60000));
      line.append(el("span", "", T.waited + " " + minutes + " " + T.minutes));
      if (entry.taken_by) line.append(el("span", "", T.taken_by + entry.taken_by));
      item.append(line, el("p", "last", entry.last_message));
      item.addEventListener("click", () => openConversation(entry.conversation_id));
      list.append(item);
    }
  }

  async function openConversation(conversationId) {
    current = conversationId;
    notice("");
    $("reply-text").value = "";
    $("release-summary").value = "";
    document.querySelectorAll(".queue-item").forEach((node) =>
      node.classList.toggle("selected", node.dataset.conversation === current));
    const result = await api("GET", "/api/conversations/" + encodeURIComponent(conversationId));
    if (result.ok) renderConversation(result.data);
    else notice(failure(result), true);
    listen();
  }

  // ------------------------------------------------------------------ one conversation

  function readingText(reading) {
    const parts = [T.reading + "：" + (reading.intent_label ? reading.intent_label + " " : "") +
      reading.intent + " · " + T.confidence + " " + reading.confidence.toFixed(2)];
    for (const entity of reading.entities) parts.push(entity.entity + "=" + entity.value);
    return parts.join(" · ");
  }

  function renderConversation(data) {
    view = data;
    const handoff = data.handoff;
    $("no-conversation").hidden = true;
    $("conversation").hidden = false;
    $("conversation-title").textContent =
      channelLabel(handoff.channel) + " · " + handoff.conversation_id + (handoff.topic_label ? " · " + handoff.topic_label : "");
    $("conversation-owner").textContent = handoff.taken_by ? T.taken_by + handoff.taken_by : T.waiting;
    $("take").hidden = handoff.taken_by === me;

    const transcript = $("transcript");
    const atBottom = transcript.parentElement.scrollTop + transcript.parentElement.clientHeight >=
      transcript.parentElement.scrollHeight - 40;
    transcript.replaceChildren();
    for (const entry of data.transcript) {
      const who = entry.speaker === "agent" ? T.agent + " " + entry.agent : T[entry.speaker];
      const item = el("li", "msg " + entry.speaker);
      item.append(el("span", "meta", who + " " + clock(entry.at)), document.createTextNode(entry.text));
      if (entry.reading) {
        const reading = el("span", "reading", readingText(entry.reading));
        for (const flag of entry.reading.flags) reading.append(" ", el("span", "badge flag", FLAGS[flag] || flag));
        const correct = el("button", "secondary correct-button", T.correct);
        correct.type = "button";
        correct.addEventListener("click", () => showCorrection(reading, entry));
        reading.append(" ", correct);
        item.append(reading);
      }
      transcript.append(item);
    }
    if (atBottom) transcript.parentElement.scrollTop = transcript.parentElement.scrollHeight;

    $("situation-title").textContent = data.situation.title || T.no_steps;
    const steps = $("steps");
    steps.replaceChildren(...data.situation.steps.map((step) => el("li", "", step)));

    const suggestions = $("suggestions");
    suggestions.replaceChildren();
    for (const text of data.suggestions) {
      const item = el("li", "suggestion");
      const use = el("button", "secondary suggestion-use", T.use);
      use.type = "button";
      use.addEventListener("click", () => { $("reply-text").value = text; $("reply-text").focus(); });
      item.append(el("p", "", text), use);
      suggestions.append(item);
    }
    renderCase(data);
    renderPhotos(data.photos || []);
    renderWindow(data.wechat_window_ends);
  }

  // The customer's evidence photos: thumbnails that open the full image in a new tab, and a
  // download link. Served by /api/photos/ to this signed-in session only (the cookie goes along).
  function renderPhotos(photos) {
    const key = photos.map((p) => p.id + ":" + (p.case_number || "")).join(",");
    if (key === shownPhotos) return; // unchanged: the images are not fetched again
    shownPhotos = key;
    $("photos-box").hidden = photos.length === 0;
    $("photo-count").textContent = String(photos.length);
    $("photos").replaceChildren(...photos.map((photo, index) => {
      const item = el("li", "photo");
      const open = el("a", "photo-open");
      open.href = photo.url; open.target = "_blank"; open.rel = "noopener";
      const image = el("img");
      image.src = photo.thumbnail_url;
      image.alt = T.photo_alt.replace("{n}", index + 1);
      image.loading = "lazy";
      open.append(image);
      const where = photo.case_number ? T.photo_case + photo.case_number : T.photo_held;
      const meta = el("span", "meta", (T["source_" + photo.source] || photo.source) + " " + clock(photo.at) + " · " + where);
      const download = el("a", "photo-download", T.photo_download);
      download.href = photo.download_url; download.setAttribute("download", "");
      item.append(open, meta, download);
      return item;
    }));
  }

  function showCorrection(reading, entry) {
    if (reading.querySelector(".correction")) return;
    const form = el("span", "correction");
    const select = el("select", "correct-intent");
    for (const intent of intents) {
      if (intent.name === entry.reading.intent) continue;
      const option = el("option", "", intent.label ? intent.label + " " + intent.name : intent.name);
      option.value = intent.name;
      select.append(option);
    }
    const submit = el("button", "correct-submit", T.correct_submit);
    submit.type = "button";
    submit.addEventListener("click", async () => {
      const result = await api("POST", "/api/conversations/" + encodeURIComponent(current) + "/corrections",
        { timestamp: entry.ts, intent: select.value });
      if (result.ok) { form.replaceChildren(el("span", "", T.corrected_ok)); }
      else notice(failure(result), true);
    });
    form.append(select, submit);
    reading.append(form);
  }

  function renderCase(data) {
    const card = $("case-card");
    card.replaceChildren();
    const form = $("case-form");
    const openForm = $("open-case-form");
    if (!data.case) {
      card.append(el("p", "muted", T.no_case));
      if (data.case_number_mentioned) card.append(el("p", "", T.case_mentioned + "：" + data.case_number_mentioned));
      form.hidden = true;
      const select = $("open-case-category");
      if (!select.options.length) {
        select.replaceChildren(...(data.categories || []).map((c) => {
          const option = el("option", "", c.label);
          option.value = c.code;
          return option;
        }));
        if (data.situation && data.situation.code) select.value = data.situation.code;
      }
      openForm.hidden = false;
      return;
    }
    openForm.hidden = true;
    const c = data.case;
    const list = el("dl");
    for (const [label, value] of [[T.case_number, c.case_number], [T.case_status, c.status_label],
      [T.category, c.category_label], [T.phone, c.phone], [T.description, c.description]]) {
      list.append(el("dt", "", label), el("dd", "", value));
    }
    card.append(list);
    const select = $("case-status");
    if (select.dataset.forCase !== c.case_number || select.options.length !== c.statuses.length) {
      select.replaceChildren(...c.statuses.map((s) => {
        const option = el("option", "", s.label);
        option.value = s.code;
        return option;
      }));
      select.value = c.status;
      select.dataset.forCase = c.case_number;
    }
    form.hidden = false;
  }

  $("case-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!view || !view.case) return;
    const body = { note: $("case-note").value };
    if ($("case-status").value !== view.case.status) body.status = $("case-status").value;
    else body.public = $("case-public").checked;
    const result = await api("PATCH", "/api/cases/" + encodeURIComponent(view.case.case_number), body);
    if (result.ok) { $("case-note").value = ""; view.case = result.data; renderCase(view); notice(T.saved); }
    else notice(failure(result), true);
  });

  $("open-case-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return;
    const result = await api("POST", "/api/conversations/" + encodeURIComponent(current) + "/case", {
      category: $("open-case-category").value,
      contact_phone: $("open-case-phone").value.trim(),
      description: $("open-case-description").value.trim(),
    });
    if (!result.ok) { notice(failure(result), true); return; }
    $("open-case-phone").value = ""; $("open-case-description").value = "";
    view.case = result.data; renderCase(view);
    notice(T.case_opened + result.data.case_number);
  });

  function renderWindow(endsIso) {
    if (countdown) { clearInterval(countdown); countdown = null; }
    const node = $("wechat-window");
    if (!endsIso) { node.hidden = true; return; }
    const ends = new Date(endsIso);
    const tick = () => {
      const left = ends - Date.now();
      node.hidden = false;
      node.classList.toggle("closed", left <= 0);
      if (left <= 0) { node.textContent = T.wechat_closed; return; }
      const hours = Math.floor(left / 3600000);
      const minutes = Math.floor((left % 3600000) / 60000);
      const seconds = Math.floor((left % 60000) / 1000);
      node.textContent = T.wechat_window + " " + hours + ":" + String(minutes).padStart(2, "0") + ":" + String(seconds).padStart(2, "0");
    };
    tick();
    countdown = setInterval(tick, 1000);
  }

  async function act(path, body, done) {
    if (!current) return;
    const result = await api("POST", "/api/conversations/" + encodeURIComponent(current) + path, body);
    if (result.ok) notice(done); else notice(failure(result), true);
    return result;
  }

  $("take").addEventListener("click", () => act("/take", {}, T.taken_ok));
  $("send").addEventListener("click", async () => {
    const text = $("reply-text").value.trim();
    if (!text) return;
    const result = await act("/reply", { text }, T.sent_ok);
    if (result && result.ok) $("reply-text").value = "";
  });
  $("release").addEventListener("click", () =>
    act("/release", { summary: $("release-summary").value.trim() || null }, T.released_ok));

  $("assist-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("assist-text").value.trim();
    if (!text) return;
    const result = await api("POST", "/api/assist", { text });
    const box = $("assist-answer");
    box.replaceChildren();
    if (!result.ok) { box.append(el("p", "error", failure(result))); return; }
    box.append(el("p", "reading", readingText(result.data.reading)));
    box.append(el("h3", "", T.assist_answer));
    for (const reply of result.data.answer) box.append(el("p", "", reply.text));
    if (result.data.situation.steps.length) {
      box.append(el("p", "situation", result.data.situation.title));
      box.append(el("ol", "", undefined));
      const list = box.lastChild;
      for (const step of result.data.situation.steps) list.append(el("li", "", step));
    }
  });

  // ------------------------------------------------------------------ the lead's panel

  async function refreshLead() {
    const pending = await api("GET", "/api/corrections?status=pending");
    const list = $("pending-corrections");
    list.replaceChildren();
    const items = pending.ok ? pending.data.corrections : [];
    if (!items.length) list.append(el("li", "muted", T.no_pending));
    for (const item of items) {
      const row = el("li", "pending-correction");
      row.append(el("p", "", item.text), el("p", "muted", item.predicted_intent + " → " + item.correct_intent + " · " + item.agent));
      for (const [label, accept] of [[T.accept, true], [T.reject, false]]) {
        const button = el("button", accept ? "" : "secondary", label);
        button.type = "button";
        button.addEventListener("click", async () => {
          const result = await api("POST", "/api/corrections/" + item.id + "/review", { accept });
          if (result.ok) refreshLead(); else notice(failure(result), true);
        });
        row.append(button, " ");
      }
      list.append(row);
    }
    const audit = await api("GET", "/api/audit?limit=50");
    const log = $("audit-log");
    log.replaceChildren(...(audit.ok ? audit.data.entries : []).map((entry) =>
      el("li", "", clock(entry.at) + " " + entry.actor + " " + entry.action + " " + entry.target + (entry.detail ? " (" + entry.detail + ")" : ""))));
  }
  $("lead-refresh").addEventListener("click", refreshLead);

  // ------------------------------------------------------------------ start

  async function start() {
    const texts = await (await fetch("/console/texts")).json();
    T = texts.page; FLAGS = texts.flags;
    document.title = T.title;
    document.querySelectorAll("[data-text]").forEach((node) => { node.textContent = T[node.dataset.text]; });
    $("reply-text").placeholder = T.reply_placeholder;
    $("release-summary").placeholder = T.release_summary;
    $("assist-text").placeholder = T.assist_placeholder;
    const result = await api("GET", "/api/me");
    if (result.ok) showApp(result.data); else showLogin("");
  }
  start();
})();
