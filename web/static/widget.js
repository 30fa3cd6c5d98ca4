/*
 * Chat widget of the POS dispute assistant. Talks to Rasa's socketio channel (relayed by
 * web/server.py on the page's own origin). The session id and the rendered history live in
 * localStorage, so a reload continues the same conversation (Rasa's session_persistence).
 * All message text goes through textContent: nothing from the bot or the user is parsed as HTML.
 */
(function () {
  "use strict";

  var STORAGE = {
    session: "posAssistant.sessionId",
    history: "posAssistant.history",
    open: "posAssistant.open"
  };
  var MAX_HISTORY = 200;
  var TYPING_TIMEOUT_MS = 30000;

  function readJson(key, fallback) {
    try {
      var value = JSON.parse(window.localStorage.getItem(key));
      return value === null ? fallback : value;
    } catch (error) {
      return fallback;
    }
  }

  function writeJson(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      /* storage full or disabled: the chat still works, only without reload persistence */
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Rasa's socketio output sends buttons as `quick_replies` (title, payload) or `buttons`. */
  function optionsOf(message) {
    var raw = message.quick_replies || message.buttons || [];
    var options = [];
    for (var i = 0; i < raw.length; i++) {
      if (raw[i] && raw[i].title && raw[i].payload) {
        options.push({ title: String(raw[i].title), payload: String(raw[i].payload) });
      }
    }
    return options;
  }

  function imageOf(message) {
    var attachment = message.attachment;
    var src = attachment && attachment.payload && attachment.payload.src;
    if (!src && message.image) src = message.image;
    return typeof src === "string" && /^https?:\/\//.test(src) ? src : null;
  }

  function ChatWidget(config) {
    this.texts = config.texts;
    this.socketPath = config.socketPath;
    this.history = readJson(STORAGE.history, []);
    this.sessionId = window.localStorage.getItem(STORAGE.session);
    this.confirmed = false;
    this.pending = [];
    this.typingTimer = null;
    this.build();
    this.renderHistory();
    this.connect();
    if (window.localStorage.getItem(STORAGE.open) === "1") this.open();
  }

  ChatWidget.prototype.build = function () {
    var t = this.texts;
    this.launcher = element("button", "pa-launcher", t.open_button);
    this.launcher.type = "button";
    this.launcher.setAttribute("aria-controls", "pa-panel");

    this.panel = element("section", "pa-panel");
    this.panel.id = "pa-panel";
    this.panel.hidden = true;
    this.panel.setAttribute("aria-label", t.title);

    var header = element("header", "pa-header");
    header.appendChild(element("span", "pa-title", t.title));
    this.status = element("span", "pa-status", t.status_connecting);
    this.status.setAttribute("role", "status");
    header.appendChild(this.status);
    this.resetButton = element("button", "pa-reset", t.new_conversation);
    this.resetButton.type = "button";
    header.appendChild(this.resetButton);
    this.closeButton = element("button", "pa-close", t.close_button);
    this.closeButton.type = "button";
    header.appendChild(this.closeButton);

    this.messages = element("div", "pa-messages");
    this.messages.setAttribute("aria-live", "polite");
    this.typing = element("div", "pa-typing", t.typing);
    this.typing.hidden = true;
    this.messages.appendChild(this.typing);

    this.form = element("form", "pa-form");
    this.input = element("input", "pa-input");
    this.input.type = "text";
    this.input.maxLength = 500;
    this.input.placeholder = t.input_placeholder;
    this.input.setAttribute("aria-label", t.input_placeholder);
    this.sendButton = element("button", "pa-send", t.send_button);
    this.sendButton.type = "submit";
    this.form.appendChild(this.input);
    this.form.appendChild(this.sendButton);

    this.panel.appendChild(header);
    this.panel.appendChild(this.messages);
    this.panel.appendChild(this.form);
    document.body.appendChild(this.launcher);
    document.body.appendChild(this.panel);

    var self = this;
    this.launcher.addEventListener("click", function () { self.open(); });
    this.closeButton.addEventListener("click", function () { self.close(); });
    this.resetButton.addEventListener("click", function () { self.reset(); });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (!text) return;
      self.input.value = "";
      self.send(text, text);
    });
  };

  ChatWidget.prototype.open = function () {
    this.panel.hidden = false;
    this.launcher.hidden = true;
    window.localStorage.setItem(STORAGE.open, "1");
    this.scrollDown();
    this.input.focus();
  };

  ChatWidget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    window.localStorage.setItem(STORAGE.open, "0");
  };

  ChatWidget.prototype.setStatus = function (state, text) {
    this.status.dataset.state = state;
    this.status.textContent = text;
  };

  ChatWidget.prototype.connect = function () {
    var self = this;
    var t = this.texts;
    this.socket = window.io({
      path: this.socketPath,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000
    });
    this.socket.on("connect", function () {
      self.confirmed = false;
      self.setStatus("connecting", t.status_connecting);
      // Always ask for the stored session, also after a reconnect: the new socket must join it.
      self.socket.emit("session_request", { session_id: self.sessionId });
    });
    this.socket.on("session_confirm", function (sessionId) {
      var confirmedId = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
      if (confirmedId) {
        self.sessionId = confirmedId;
        window.localStorage.setItem(STORAGE.session, confirmedId);
      }
      self.confirmed = true;
      self.setStatus("connected", t.status_connected);
      // A new conversation asks the assistant for its welcome (with the quick replies).
      if (self.history.length === 0 && self.pending.length === 0) {
        self.showTyping();
        self.emitMessage("/session_start");
      }
      var queued = self.pending.splice(0);
      for (var i = 0; i < queued.length; i++) self.emitMessage(queued[i]);
    });
    this.socket.on("bot_uttered", function (message) { self.receive(message || {}); });
    this.socket.on("disconnect", function () {
      self.confirmed = false;
      self.setStatus("reconnecting", t.status_reconnecting);
    });
    this.socket.io.on("reconnect_attempt", function () {
      self.setStatus("reconnecting", t.status_reconnecting);
    });
    this.socket.io.on("reconnect_failed", function () {
      self.setStatus("offline", t.status_offline);
    });
  };

  /* Shows `displayText` as the user's message and sends `payload` to the assistant. */
  ChatWidget.prototype.send = function (payload, displayText) {
    this.disableOptions();
    this.addMessage({ role: "user", text: displayText });
    this.showTyping();
    if (this.confirmed) this.emitMessage(payload);
    else this.pending.push(payload); // sent once the (re)connected socket has joined the session
  };

  ChatWidget.prototype.emitMessage = function (payload) {
    this.socket.emit("user_uttered", { message: payload, session_id: this.sessionId });
  };

  ChatWidget.prototype.receive = function (message) {
    this.hideTyping();
    var text = typeof message.text === "string" ? message.text : "";
    var image = imageOf(message);
    var options = optionsOf(message);
    if (!text && !image && options.length === 0) return;
    this.addMessage({ role: "bot", text: text, image: image, options: options });
  };

  ChatWidget.prototype.addMessage = function (entry) {
    this.history.push(entry);
    if (this.history.length > MAX_HISTORY) this.history = this.history.slice(-MAX_HISTORY);
    writeJson(STORAGE.history, this.history);
    this.render(entry, true);
    this.scrollDown();
  };

  ChatWidget.prototype.renderHistory = function () {
    var lastIndex = this.history.length - 1;
    for (var i = 0; i < this.history.length; i++) this.render(this.history[i], i === lastIndex);
    this.scrollDown();
  };

  ChatWidget.prototype.render = function (entry, optionsActive) {
    var bubble = element("div", "pa-message " + (entry.role === "user" ? "pa-user" : "pa-bot"));
    if (entry.text) bubble.appendChild(document.createTextNode(entry.text));
    if (entry.image) {
      var img = element("img");
      img.src = entry.image;
      img.alt = "";
      bubble.appendChild(img);
    }
    this.messages.insertBefore(bubble, this.typing.parentNode ? this.typing : null);
    if (entry.options && entry.options.length) {
      var self = this;
      var row = element("div", "pa-options");
      entry.options.forEach(function (option) {
        var button = element("button", "pa-option", option.title);
        button.type = "button";
        button.disabled = !optionsActive;
        button.addEventListener("click", function () { self.send(option.payload, option.title); });
        row.appendChild(button);
      });
      this.messages.insertBefore(row, this.typing.parentNode ? this.typing : null);
    }
    if (!this.typing.parentNode) this.messages.appendChild(this.typing);
  };

  /* Older choices no longer fit the conversation once the user has answered. */
  ChatWidget.prototype.disableOptions = function () {
    var buttons = this.messages.querySelectorAll(".pa-option");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  };

  ChatWidget.prototype.showTyping = function () {
    var self = this;
    this.typing.hidden = false;
    this.scrollDown();
    window.clearTimeout(this.typingTimer);
    this.typingTimer = window.setTimeout(function () { self.hideTyping(); }, TYPING_TIMEOUT_MS);
  };

  ChatWidget.prototype.hideTyping = function () {
    window.clearTimeout(this.typingTimer);
    this.typing.hidden = true;
  };

  ChatWidget.prototype.scrollDown = function () {
    this.messages.scrollTop = this.messages.scrollHeight;
  };

  /* Starts over: forget the session and the history, and ask Rasa for a new session. */
  ChatWidget.prototype.reset = function () {
    window.localStorage.removeItem(STORAGE.session);
    window.localStorage.removeItem(STORAGE.history);
    this.sessionId = null;
    this.history = [];
    this.pending = [];
    this.hideTyping();
    while (this.messages.firstChild) this.messages.removeChild(this.messages.firstChild);
    this.messages.appendChild(this.typing);
    if (this.socket.connected) {
      this.confirmed = false;
      this.socket.emit("session_request", { session_id: null });
    }
  };

  function start() {
    fetch("/config.json", { cache: "no-store" })
      .then(function (answer) { return answer.json(); })
      .then(function (config) { window.posAssistantWidget = new ChatWidget(config); })
      .catch(function (error) { console.error("chat widget: cannot load /config.json", error); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
