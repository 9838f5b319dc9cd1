// The desk screen: shows the latest status from the daemon's event feed, clears it after a
// while. Sets textContent only (never markup) so nothing from a scan can run as code.
// Questions the rules ask become buttons; an answer lives in this page only, for the scan on
// screen: it is sent with the scan's id and the page's token, and forgotten when the screen
// clears, another card is scanned or the page is reloaded.
// With a `page:` source, a keyboard scanner's burst typed into this page becomes a scan.
// Addresses are relative to the page: on a service for many desks each desk's page, feed and
// API live under its own path. There the scan's answer comes back on the request that carried
// it, with a ticket that goes back with the answers (any instance can take them).
// The feed also says each scan source's state (a red bar when none can read a card; the idle
// screen then says cards cannot be read instead of "waiting"), "checking the card" from a scan
// to its answer, and the standing banner, the same idle and with any card on screen.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const meta = document.querySelector('meta[name="verify-page"]');
  const page = meta ? JSON.parse(meta.content) : {};
  const words = page.words || {};
  let clearTimer = null;
  let scanId = null;
  let answers = {};
  let original = null;  // the scan as the daemon sent it, before any answer
  let labels = [];  // the buttons tapped, in this page only
  let ticket = null;  // a service for many desks: the sealed scan, sent back with answers
  let sources = {ready: true, sources: [], alert: "", headline: ""};
  let idle = true;

  function setList(el, items) {
    el.replaceChildren(...items.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }));
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Verify-Page": page.page_token || ""},
      body: JSON.stringify(body),
    });
  }

  // Standing: stays across clears while the daemon's lookup profiles are unconfirmed.
  function setNotice(text) {
    $("profile-banner").textContent = text || "";
    $("profile-banner").hidden = !text;
  }

  function blank() {
    if (clearTimer) { clearTimeout(clearTimer); clearTimer = null; }
    scanId = null;
    answers = {};
    labels = [];
    original = null;
    ticket = null;
    $("card").dataset.scan = "";
    $("document").textContent = "";
    setList($("lines"), []);
    $("summary").textContent = "";
    $("questions").replaceChildren();
    setList($("steps"), []);
    $("manual").hidden = true;
    $("manual-link").textContent = "";
    $("manual-link").removeAttribute("href");
    $("meta").textContent = "";
  }

  function tone(name) {
    $("card").className = "tone-" + name;
    $("card").dataset.tone = name;
  }

  // Idle: waiting for a card when a source can read one; otherwise say that none can.
  function clearScreen() {
    blank();
    idle = true;
    tone(sources.ready ? "idle" : "fault");
    $("headline").textContent = sources.ready ? (words.waiting || "") : (sources.headline || "");
    $("detail").textContent = sources.ready ? (words.scan_hint || "") : (sources.alert || "");
  }

  function checking() {
    blank();
    idle = false;
    tone("checking");
    $("headline").textContent = words.checking || "";
    $("detail").textContent = words.checking_hint || "";
  }

  function showSources(view) {
    sources = view || sources;
    $("sources").replaceChildren(...(sources.sources || []).map((line) => {
      const span = document.createElement("span");
      span.textContent = line.text || "";
      span.dataset.state = line.state || "";
      if (!line.ok) span.className = "down";
      return span;
    }));
    $("source-alert").textContent = sources.ready ? "" : (sources.alert || "");
    $("source-alert").hidden = !!sources.ready;
    if (idle) clearScreen();
  }

  function questions(list) {
    $("questions").replaceChildren(...list.map((q) => {
      const box = document.createElement("section");
      box.className = "question";
      box.dataset.fact = q.fact;
      const text = document.createElement("p");
      text.className = "question-text";
      text.textContent = q.question || "";
      const options = document.createElement("div");
      options.className = "options";
      for (const o of q.options || []) {
        const cell = document.createElement("div");
        cell.className = "option";
        if (q.answerable) {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = o.label || "";
          button.dataset.value = o.value;
          button.addEventListener("click", () => {
            button.blur();
            answer(q.fact, o.value, o.label || "");
          });
          cell.append(button);
        } else {
          const label = document.createElement("strong");
          label.textContent = o.label || "";
          cell.append(label);
        }
        const meaning = document.createElement("span");
        meaning.className = "meaning";
        meaning.textContent = o.meaning || "";
        cell.append(meaning);
        options.append(cell);
      }
      box.append(text, options);
      return box;
    }));
  }

  function render(event, fresh) {
    const desk = event.desk || {};
    idle = false;
    setNotice(desk.profile_notice);
    tone(["valid", "not_valid", "unknown"].includes(desk.tone) ? desk.tone : "unknown");
    $("card").dataset.seq = String((event.event || {}).seq || "");
    $("card").dataset.scan = desk.scan_id || "";
    $("document").textContent = desk.document || "";
    $("headline").textContent = desk.headline || "";
    $("detail").textContent = desk.detail || "";
    setList($("lines"), desk.lines || []);
    $("summary").textContent = desk.summary || "";
    questions(desk.questions || []);
    if (Object.keys(answers).length) {
      const undo = document.createElement("button");
      undo.type = "button";
      undo.id = "change-answer";
      undo.className = "change";
      undo.textContent = words.change_answer || "";
      undo.addEventListener("click", () => { answers = {}; labels = []; render(original, false); });
      const said = document.createElement("span");
      said.id = "answered";
      said.className = "answered";
      said.textContent = (words.answered || "{answers}").replace("{answers}", labels.join(", "));
      $("questions").append(said, undo);
    }
    setList($("steps"), desk.steps || []);
    const url = desk.manual_check_url;
    if (url && /^https?:\/\//.test(url)) {
      $("manual").hidden = false;
      $("manual-label").textContent = desk.manual_label || "";
      $("manual-link").textContent = url;
      $("manual-link").href = url;
    } else {
      $("manual").hidden = true;
    }
    if (!fresh) return;
    const at = (event.event || {}).scanned_at || "";
    $("meta").textContent = at ? (words.scanned || "{time}").replace("{time}", at.slice(11, 19)) : "";
    if (clearTimer) clearTimeout(clearTimer);
    const after = Number(desk.clear_after) || 30;
    clearTimer = setTimeout(clearScreen, after * 1000);
  }

  function show(event, sealed) {
    const id = (event.desk || {}).scan_id || null;
    if (id && id === scanId && Object.keys(answers).length) return;  // a reconnect's repeat
    if (id && id === scanId && !sealed) return;  // the feed's copy of a scan already shown
    ticket = sealed || null;
    scanId = id;
    answers = {};
    labels = [];
    original = event;
    render(event, true);
  }

  function answer(fact, value, label) {
    const id = scanId;
    if (!id) return;
    const next = Object.assign({}, answers, {[fact]: value});
    const body = {scan: id, answers: next};
    if (ticket) body.ticket = ticket;
    post("api/answer", body).then((resp) => {
      if (!resp.ok) throw new Error(String(resp.status));
      return resp.json();
    }).then((event) => {
      if (scanId !== id) return;  // another card came meanwhile: the answer was for the old one
      answers = next;
      labels = labels.concat([label]);
      render(event, false);
    }).catch(() => {
      if (scanId === id) $("meta").textContent = words.answer_failed || "";
    });
  }

  // The event feed. While a connection drops, the browser itself reconnects (the stream's
  // `retry: 2000`). After an answer that is no stream (503 when every slot is taken, 403, the
  // daemon restarting) the browser gives up for good: this page then tries again itself, after
  // 1, 2, 4 … up to 30 s (with a little jitter so many screens do not come back at once), and the
  // status bar counts the seconds down, so "trying again" is true.
  const RETRY_FIRST = 1000;
  const RETRY_MAX = 30000;
  let retryDelay = RETRY_FIRST;
  let countdown = null;

  function linkDown(text) {
    $("connection").textContent = text || "";
    $("connection").classList.add("down");
  }

  function retryLater() {
    const wait = Math.round(retryDelay * (0.8 + 0.4 * Math.random()));
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX);
    const due = performance.now() + wait;
    const tell = () => {
      const left = Math.max(1, Math.ceil((due - performance.now()) / 1000));
      linkDown((words.retrying || "{seconds}").replace("{seconds}", String(left)));
    };
    tell();
    if (countdown) clearInterval(countdown);
    countdown = setInterval(tell, 1000);
    setTimeout(() => { clearInterval(countdown); countdown = null; connect(); }, wait);
  }

  function connect() {
    const feed = new EventSource("api/events");
    feed.addEventListener("open", () => {
      retryDelay = RETRY_FIRST;
      $("connection").textContent = words.connected || "";
      $("connection").classList.remove("down");
    });
    feed.addEventListener("error", () => {
      if (feed.readyState === EventSource.CLOSED) {
        feed.close();
        retryLater();
      } else {
        linkDown(words.disconnected);  // the browser is reconnecting by itself
      }
    });
    feed.addEventListener("status", (e) => show(JSON.parse(e.data)));
    feed.addEventListener("clear", (e) => {
      clearScreen();
      setNotice((JSON.parse(e.data || "{}") || {}).profile_notice);
    });
    feed.addEventListener("checking", (e) => {
      checking();
      setNotice((JSON.parse(e.data || "{}") || {}).profile_notice);
    });
    feed.addEventListener("sources", (e) => showSources(JSON.parse(e.data || "{}")));
  }

  // -- a keyboard-mode scanner typing into this page ------------------------------------------
  function keyboard(policy) {
    const badge = $("keyboard");
    const focus = () => {
      const on = document.hasFocus();
      badge.hidden = false;
      badge.textContent = on ? words.keyboard_ready : words.keyboard_blurred;
      badge.classList.toggle("off", !on);
    };
    window.addEventListener("focus", focus);
    window.addEventListener("blur", focus);
    focus();
    let text = "";
    let gaps = [];
    let prev = 0;
    const reset = () => { text = ""; gaps = []; prev = 0; };
    // The same test as the daemon's (drivers/page.py): long enough, every gap short, the mean
    // gap shorter still (no person keeps it up), not one key held down.
    const scannerBurst = (now) => {
      if (text.length < policy.min_chars || now - prev > policy.max_gap_ms) return false;
      if (new Set(text).size === 1 || /([^<])\1{7}/u.test(text)) return false;  // a key held
      const mean = gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length);
      return mean <= (policy.mean_gap_ms || policy.max_gap_ms);
    };
    document.addEventListener("keydown", (e) => {
      // Only keys a person or a device pressed: a script's synthetic events are no scan.
      if (!e.isTrusted) return;
      // A held key (auto-repeat) is no scanner: what was gathered is dropped.
      if (e.repeat) { reset(); return; }
      const now = performance.now();
      if (e.key === "Enter" || e.key === "Tab") {
        if (scannerBurst(now)) {
          e.preventDefault();  // the scanner's Enter must not press a focused button
          const body = {text: text, gaps: gaps, end: e.key};
          post("api/scan", body).then((resp) => {
            if (!resp.ok) { $("meta").textContent = words.scan_refused || ""; return null; }
            return resp.status === 200 ? resp.json() : null;
          }).then((event) => {
            if (event && event.desk) show(event, event.ticket || null);
          }).catch(() => { $("meta").textContent = words.scan_refused || ""; });
        }
        reset();
        return;
      }
      if (e.key.length !== 1 || e.metaKey || (e.ctrlKey && !e.altKey)) return;  // not text
      const gap = now - prev;
      if (!text || gap > policy.max_gap_ms) {
        text = e.key; gaps = [];  // too slow: a person typing, start again from this key
      } else if (text.length < 4096) {
        text += e.key; gaps.push(Math.round(gap));
      }
      prev = now;
    }, true);
  }

  clearScreen();
  connect();
  if (page.keyboard) keyboard(page.keyboard);
})();
