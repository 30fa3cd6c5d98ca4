/*
 * Chat widget of the POS dispute assistant, embeddable on any website with one tag:
 *
 *   <script src="https://assistant.example.com/embed.js" data-title="…" data-position="left"
 *           data-color="#1f6feb" data-open="true" async></script>
 *
 * web/server.py serves this file as /embed.js, wrapped together with socket.io-client so that
 * `io` is a local of the bundle (the host page's own globals are neither read nor overwritten).
 * Everything is drawn inside an open Shadow DOM: the host page's CSS does not reach the widget
 * and the widget's CSS does not reach the page. The relay answers only pages whose origin is
 * in WIDGET_ALLOWED_ORIGINS (and its own demo page).
 * The session id and the rendered history live in localStorage, so a reload continues the same
 * conversation (Rasa's session_persistence). All message text goes through textContent.
 */
/* global io */
(function (script) {
  "use strict";

  var STORAGE = {
    session: "posAssistant.sessionId",
    history: "posAssistant.history",
    open: "posAssistant.open"
  };
  var MAX_HISTORY = 200;
  var TYPING_TIMEOUT_MS = 30000;
  var DEFAULT_COLOR = "#1f6feb";

  /* The data- options of the script tag; the server defaults to where the script came from. */
  function readOptions(tag) {
    var data = (tag && tag.dataset) || {};
    var source = tag && tag.src ? new URL(tag.src, window.location.href) : window.location;
    var color = /^#[0-9a-f]{6}$/i.test(data.color || "") ? data.color : DEFAULT_COLOR;
    return {
      server: (data.server || source.origin).replace(/\/+$/, ""),
      title: data.title || "",
      position: data.position === "left" ? "left" : "right",
      color: color,
      openOnLoad: data.open === "true"
    };
  }

  /* WCAG relative luminance and contrast, to keep the header text readable on any colour. */
  function luminance(hex) {
    var channels = [1, 3, 5].map(function (start) {
      var value = parseInt(hex.substr(start, 2), 16) / 255;
      return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }

  function contrast(first, second) {
    var a = luminance(first), b = luminance(second);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }

  function readJson(key, fallback) {
    try {
      var value = JSON.parse(window.localStorage.getItem(key));
      return value === null ? fallback : value;
    } catch (error) {
      return fallback;
    }
  }

  function writeStorage(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, typeof value === "string" ? value : JSON.stringify(value));
    } catch (error) {
      /* storage full or disabled: the chat still works, only without reload persistence */
    }
  }

  function readStorage(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(className, text) {
    var node = element("button", className, text);
    node.type = "button";
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

  function ChatWidget(options, config) {
    this.options = options;
    this.texts = config.texts;
    this.socketPath = config.socketPath;
    this.history = readJson(STORAGE.history, []);
    this.sessionId = readStorage(STORAGE.session);
    this.confirmed = false;
    this.pending = [];
    this.typingTimer = null;
  }

  ChatWidget.prototype.start = function (root) {
    this.root = root;
    this.build();
    this.renderHistory();
    this.connect();
    if (this.options.openOnLoad || readStorage(STORAGE.open) === "1") this.open(false);
  };

  ChatWidget.prototype.build = function () {
    var t = this.texts;
    var title = this.options.title || t.title;
    this.launcher = button("pa-launcher", t.open_button);
    this.launcher.setAttribute("aria-controls", "pa-panel");
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-haspopup", "dialog");

    this.panel = element("section", "pa-panel");
    this.panel.id = "pa-panel";
    this.panel.hidden = true;
    this.panel.setAttribute("role", "dialog");
    this.panel.setAttribute("aria-labelledby", "pa-title");

    var header = element("header", "pa-header");
    var heading = element("h2", "pa-title", title);
    heading.id = "pa-title";
    header.appendChild(heading);
    this.status = element("span", "pa-status", t.status_connecting);
    this.status.setAttribute("role", "status");
    header.appendChild(this.status);
    this.resetButton = button("pa-reset", t.new_conversation);
    header.appendChild(this.resetButton);
    this.closeButton = button("pa-close", t.close_button);
    this.closeButton.setAttribute("aria-keyshortcuts", "Escape");
    header.appendChild(this.closeButton);

    // A log region: screen readers announce each message added at its end.
    this.messages = element("div", "pa-messages");
    this.messages.setAttribute("role", "log");
    this.messages.setAttribute("aria-live", "polite");
    this.messages.setAttribute("aria-relevant", "additions");
    this.messages.setAttribute("aria-label", t.messages_label);
    this.messages.tabIndex = 0; // scrollable with the keyboard
    this.typing = element("div", "pa-typing", t.typing);
    this.typing.hidden = true;

    this.form = element("form", "pa-form");
    this.input = element("input", "pa-input");
    this.input.type = "text";
    this.input.id = "pa-input";
    this.input.maxLength = 500;
    this.input.placeholder = t.input_placeholder;
    this.input.autocomplete = "off";
    var label = element("label", "pa-visually-hidden", t.input_label);
    label.htmlFor = "pa-input";
    this.sendButton = element("button", "pa-send", t.send_button);
    this.sendButton.type = "submit";
    // Photos: the button opens the (invisible) file picker; the files go up as one message.
    this.attachButton = button("pa-attach", t.attach_button);
    this.attachButton.setAttribute("aria-label", t.attach_label);
    this.fileInput = element("input", "pa-file");
    this.fileInput.type = "file";
    this.fileInput.accept = "image/*";
    this.fileInput.multiple = true;
    this.fileInput.hidden = true;
    this.form.appendChild(label);
    this.form.appendChild(this.input);
    this.form.appendChild(this.sendButton);
    this.form.appendChild(this.attachButton);
    this.form.appendChild(this.fileInput);

    this.panel.appendChild(header);
    this.panel.appendChild(this.messages);
    this.panel.appendChild(this.typing);
    this.panel.appendChild(this.form);
    this.root.appendChild(this.launcher);
    this.root.appendChild(this.panel);

    var self = this;
    this.launcher.addEventListener("click", function () { self.open(true); });
    this.closeButton.addEventListener("click", function () { self.close(); });
    this.resetButton.addEventListener("click", function () { self.reset(); });
    this.attachButton.addEventListener("click", function () { self.fileInput.click(); });
    this.fileInput.addEventListener("change", function () {
      var files = Array.prototype.slice.call(self.fileInput.files || []);
      self.fileInput.value = "";
      if (files.length) self.sendPhotos(files);
    });
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        self.close();
      }
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (!text) return;
      self.input.value = "";
      self.send(text, text);
    });
  };

  ChatWidget.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.launcher.hidden = true;
    this.launcher.setAttribute("aria-expanded", "true");
    writeStorage(STORAGE.open, "1");
    this.scrollDown();
    // Opened on load, the widget does not take the focus away from the page the user is reading.
    if (focus !== false) this.input.focus();
  };

  ChatWidget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute("aria-expanded", "false");
    writeStorage(STORAGE.open, "0");
    this.launcher.focus();
  };

  ChatWidget.prototype.setStatus = function (state, text) {
    this.status.dataset.state = state;
    this.status.textContent = text;
  };

  ChatWidget.prototype.connect = function () {
    var self = this;
    var t = this.texts;
    this.socket = io(this.options.server, {
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
        writeStorage(STORAGE.session, confirmedId);
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

  /* Uploads the photos as one message; the server's answer (receipt or refusal) is shown as
     the assistant's reply. The session id is what ties them to this conversation. */
  ChatWidget.prototype.sendPhotos = function (files) {
    var self = this;
    var t = this.texts;
    this.disableOptions();
    this.addMessage({ role: "user", text: t.photos_sent.replace("{count}", String(files.length)) });
    if (!this.sessionId) {
      this.addMessage({ role: "bot", text: t.photos_failed });
      return;
    }
    this.showTyping();
    var form = new FormData();
    form.append("session", this.sessionId);
    files.forEach(function (file) { form.append("photo", file, "photo"); });
    fetch(this.options.server + "/uploads", { method: "POST", body: form, mode: "cors" })
      .then(function (answer) { return answer.json(); })
      .then(function (reply) {
        self.hideTyping();
        self.addMessage({ role: "bot", text: String(reply.text || t.photos_failed) });
      })
      .catch(function () {
        self.hideTyping();
        self.addMessage({ role: "bot", text: t.photos_failed });
      })
      .then(function () { self.input.focus(); });
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
    writeStorage(STORAGE.history, this.history);
    this.render(entry, true);
    this.scrollDown();
  };

  ChatWidget.prototype.renderHistory = function () {
    var lastIndex = this.history.length - 1;
    for (var i = 0; i < this.history.length; i++) this.render(this.history[i], i === lastIndex);
    this.scrollDown();
  };

  ChatWidget.prototype.render = function (entry, optionsActive) {
    var t = this.texts;
    var isUser = entry.role === "user";
    var bubble = element("div", "pa-message " + (isUser ? "pa-user" : "pa-bot"));
    if (entry.text) bubble.appendChild(document.createTextNode(entry.text));
    if (entry.image) {
      var img = element("img");
      img.src = entry.image;
      img.alt = t.image_alt;
      bubble.appendChild(img);
    }
    this.messages.appendChild(bubble);
    if (entry.options && entry.options.length) {
      var self = this;
      var row = element("div", "pa-options");
      row.setAttribute("role", "group");
      row.setAttribute("aria-label", t.options_label);
      entry.options.forEach(function (option) {
        var choice = button("pa-option", option.title);
        choice.disabled = !optionsActive;
        choice.addEventListener("click", function () {
          self.send(option.payload, option.title);
          self.input.focus(); // the chosen button is disabled now: keep the keyboard in the chat
        });
        row.appendChild(choice);
      });
      this.messages.appendChild(row);
    }
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
    writeStorage(STORAGE.session, null);
    writeStorage(STORAGE.history, null);
    this.sessionId = null;
    this.history = [];
    this.pending = [];
    this.hideTyping();
    while (this.messages.firstChild) this.messages.removeChild(this.messages.firstChild);
    this.input.focus();
    if (this.socket.connected) {
      this.confirmed = false;
      this.socket.emit("session_request", { session_id: null });
    }
  };

  /* The host element and its shadow root; the stylesheet comes from the widget's server. */
  function mount(options, onReady) {
    var host = document.createElement("pos-assistant-widget");
    var root = host.attachShadow({ mode: "open" });
    var style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = options.server + "/static/widget.css";
    root.appendChild(style);
    var frame = element("div", "pa-root pa-" + options.position);
    frame.style.setProperty("--pa-accent", options.color);
    frame.style.setProperty(
      "--pa-on-accent",
      contrast(options.color, "#ffffff") >= 4.5 ? "#ffffff" : "#1d2125"
    );
    frame.hidden = true; // shown once styled, so the page never sees an unstyled widget
    root.appendChild(frame);
    style.addEventListener("load", function () { frame.hidden = false; });
    document.body.appendChild(host);
    onReady(frame, host);
  }

  function start() {
    var options = readOptions(script);
    fetch(options.server + "/config.json", { cache: "no-store", mode: "cors" })
      .then(function (answer) {
        if (!answer.ok) throw new Error("HTTP " + answer.status);
        return answer.json();
      })
      .then(function (config) {
        var widget = new ChatWidget(options, config);
        mount(options, function (frame) { widget.start(frame); });
        window.posAssistantWidget = widget;
      })
      .catch(function (error) {
        // An origin the server does not allow ends here: no widget, a note for the site's developer.
        console.error("chat widget: cannot load " + options.server + "/config.json", error);
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(document.currentScript);
