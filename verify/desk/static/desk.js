// The desk screen: shows the latest status from the daemon's event feed, clears it after a
// while. Sets textContent only (never markup) so nothing from a scan can run as code.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let clearTimer = null;

  function setList(el, items) {
    el.replaceChildren(...items.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }));
  }

  // Standing: stays across clears while the daemon's lookup profiles are unconfirmed.
  function setNotice(text) {
    $("profile-banner").textContent = text || "";
    $("profile-banner").hidden = !text;
  }

  function clearScreen() {
    if (clearTimer) { clearTimeout(clearTimer); clearTimer = null; }
    $("card").className = "tone-idle";
    $("card").dataset.tone = "idle";
    $("document").textContent = "";
    $("headline").textContent = "Väntar på kort …";
    $("detail").textContent = "Skanna kortets QR-kod.";
    setList($("lines"), []);
    $("summary").textContent = "";
    setList($("steps"), []);
    $("manual").hidden = true;
    $("manual-link").textContent = "";
    $("manual-link").removeAttribute("href");
    $("meta").textContent = "";
  }

  function show(event) {
    const desk = event.desk || {};
    if (desk.profile_notice) setNotice(desk.profile_notice);
    const tone = ["valid", "not_valid", "unknown"].includes(desk.tone) ? desk.tone : "unknown";
    $("card").className = "tone-" + tone;
    $("card").dataset.tone = tone;
    $("card").dataset.seq = String((event.event || {}).seq || "");
    $("document").textContent = desk.document || "";
    $("headline").textContent = desk.headline || "";
    $("detail").textContent = desk.detail || "";
    setList($("lines"), desk.lines || []);
    $("summary").textContent = desk.summary || "";
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
    const at = (event.event || {}).scanned_at || "";
    $("meta").textContent = at ? "Skannat " + at.slice(11, 19) : "";
    if (clearTimer) clearTimeout(clearTimer);
    const after = Number(desk.clear_after) || 30;
    clearTimer = setTimeout(clearScreen, after * 1000);
  }

  function connect() {
    const feed = new EventSource("/api/events");
    feed.addEventListener("open", () => {
      $("connection").textContent = "Ansluten";
      $("connection").classList.remove("down");
    });
    feed.addEventListener("error", () => {
      $("connection").textContent = "Ingen kontakt med tjänsten – försöker igen …";
      $("connection").classList.add("down");
    });
    feed.addEventListener("status", (e) => show(JSON.parse(e.data)));
    feed.addEventListener("clear", (e) => {
      clearScreen();
      setNotice((JSON.parse(e.data || "{}") || {}).profile_notice);
    });
  }

  clearScreen();
  connect();
})();
